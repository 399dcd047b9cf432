/* The ONNX importer: the model zoo, every attribute and storage kind, and
 * malformed or hostile files (each error must name what is wrong and where).
 * Models are built with protobuf-c in C: no python at test time. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "frontend/onnx_import.h"
#include "ir/graph.h"
#include "onnx/onnx.pb-c.h"

#define ZOO "/work/shared/zoo"

/* ---- a small ModelProto builder (every allocation tracked, freed at once) ---- */

enum { MAX_ITEMS = 64 };

typedef struct graph_builder {
    Onnx__GraphProto g;
    Onnx__NodeProto *nodes[MAX_ITEMS];
    Onnx__TensorProto *inits[MAX_ITEMS];
    Onnx__ValueInfoProto *inputs[MAX_ITEMS], *outputs[MAX_ITEMS];
} graph_builder;

typedef struct model_builder {
    Onnx__ModelProto model;
    Onnx__OperatorSetIdProto *opsets[4];
    graph_builder main;
    void *allocs[4096];
    int num_allocs;
} model_builder;

static void *mb_alloc(model_builder *b, size_t size) {
    cr_assert_lt(b->num_allocs, 4096);
    void *p = calloc(1, size);
    cr_assert_not_null(p);
    b->allocs[b->num_allocs++] = p;
    return p;
}

static void gb_init(graph_builder *gb, const char *name) {
    onnx__graph_proto__init(&gb->g);
    gb->g.name = (char *)name;
    gb->g.node = gb->nodes;
    gb->g.initializer = gb->inits;
    gb->g.input = gb->inputs;
    gb->g.output = gb->outputs;
}

static void mb_add_opset(model_builder *b, const char *domain, int64_t version) {
    Onnx__OperatorSetIdProto *op = mb_alloc(b, sizeof *op);
    onnx__operator_set_id_proto__init(op);
    op->domain = (char *)domain;
    op->has_version = 1;
    op->version = version;
    b->opsets[b->model.n_opset_import++] = op;
}

static model_builder *mb_new(int64_t opset) {
    model_builder *b = calloc(1, sizeof *b);
    cr_assert_not_null(b);
    onnx__model_proto__init(&b->model);
    b->model.has_ir_version = 1;
    b->model.ir_version = 8;
    b->model.opset_import = b->opsets;
    if (opset > 0) mb_add_opset(b, "", opset);
    gb_init(&b->main, "test_graph");
    b->model.graph = &b->main.g;
    return b;
}

static void mb_free(model_builder *b) {
    for (int i = 0; i < b->num_allocs; i++) free(b->allocs[i]);
    free(b);
}

/* dims: comma-separated; a number is dim_value, "?" no value, anything else dim_param. */
static Onnx__TypeProto *mb_tensor_type(model_builder *b, int32_t elem_type, const char *dims) {
    Onnx__TypeProto *tp = mb_alloc(b, sizeof *tp);
    onnx__type_proto__init(tp);
    Onnx__TypeProto__Tensor *tt = mb_alloc(b, sizeof *tt);
    onnx__type_proto__tensor__init(tt);
    tt->has_elem_type = 1;
    tt->elem_type = elem_type;
    tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    tp->tensor_type = tt;
    if (dims == NULL) return tp;
    Onnx__TensorShapeProto *sh = mb_alloc(b, sizeof *sh);
    onnx__tensor_shape_proto__init(sh);
    sh->dim = mb_alloc(b, 16 * sizeof *sh->dim);
    tt->shape = sh;
    char *copy = mb_alloc(b, strlen(dims) + 1);
    strcpy(copy, dims);
    for (char *save = NULL, *tok = strtok_r(copy, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
        Onnx__TensorShapeProto__Dimension *d = mb_alloc(b, sizeof *d);
        onnx__tensor_shape_proto__dimension__init(d);
        if ((tok[0] >= '0' && tok[0] <= '9') || tok[0] == '-') {
            d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
            d->dim_value = strtoll(tok, NULL, 10);
        } else if (strcmp(tok, "?") != 0) {
            d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
            d->dim_param = tok;
        }
        sh->dim[sh->n_dim++] = d;
    }
    return tp;
}

static Onnx__ValueInfoProto *mb_value_info(model_builder *b, const char *name, int32_t elem_type, const char *dims) {
    Onnx__ValueInfoProto *vi = mb_alloc(b, sizeof *vi);
    onnx__value_info_proto__init(vi);
    vi->name = (char *)name;
    vi->type = elem_type >= 0 ? mb_tensor_type(b, elem_type, dims) : NULL;
    return vi;
}

static void gb_input(model_builder *b, graph_builder *gb, const char *name, int32_t elem_type, const char *dims) {
    gb->inputs[gb->g.n_input++] = mb_value_info(b, name, elem_type, dims);
}

static void gb_output(model_builder *b, graph_builder *gb, const char *name, int32_t elem_type, const char *dims) {
    gb->outputs[gb->g.n_output++] = mb_value_info(b, name, elem_type, dims);
}

static Onnx__NodeProto *gb_node(model_builder *b, graph_builder *gb, const char *op, const char *name, const char *in0,
                                const char *in1, const char *out) {
    Onnx__NodeProto *n = mb_alloc(b, sizeof *n);
    onnx__node_proto__init(n);
    n->op_type = (char *)op;
    n->name = (char *)name;
    n->input = mb_alloc(b, 8 * sizeof *n->input);
    n->output = mb_alloc(b, 8 * sizeof *n->output);
    n->attribute = mb_alloc(b, 16 * sizeof *n->attribute);
    if (in0) n->input[n->n_input++] = (char *)in0;
    if (in1) n->input[n->n_input++] = (char *)in1;
    if (out) n->output[n->n_output++] = (char *)out;
    gb->nodes[gb->g.n_node++] = n;
    return n;
}

static Onnx__AttributeProto *node_attr(model_builder *b, Onnx__NodeProto *n, const char *name,
                                       Onnx__AttributeProto__AttributeType type) {
    Onnx__AttributeProto *a = mb_alloc(b, sizeof *a);
    onnx__attribute_proto__init(a);
    a->name = (char *)name;
    a->has_type = 1;
    a->type = type;
    n->attribute[n->n_attribute++] = a;
    return a;
}

/* A tensor with shape dims (rank given) and no data yet. */
static Onnx__TensorProto *mb_tensor(model_builder *b, const char *name, int32_t dtype, size_t rank, const int64_t *dims) {
    Onnx__TensorProto *t = mb_alloc(b, sizeof *t);
    onnx__tensor_proto__init(t);
    t->name = (char *)name;
    t->has_data_type = 1;
    t->data_type = dtype;
    t->n_dims = rank;
    t->dims = mb_alloc(b, (rank + 1) * sizeof *t->dims);
    if (rank) memcpy(t->dims, dims, rank * sizeof *dims);
    return t;
}

static void tensor_raw(Onnx__TensorProto *t, const void *data, size_t len) {
    t->has_raw_data = 1;
    t->raw_data.data = (uint8_t *)data;
    t->raw_data.len = len;
}

static Onnx__TensorProto *gb_init_f32(model_builder *b, graph_builder *gb, const char *name, size_t rank,
                                      const int64_t *dims, const float *data, size_t count) {
    Onnx__TensorProto *t = mb_tensor(b, name, ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, rank, dims);
    tensor_raw(t, data, count * sizeof(float));
    gb->inits[gb->g.n_initializer++] = t;
    return t;
}

static uint8_t *mb_pack(model_builder *b, size_t *out_size) {
    *out_size = onnx__model_proto__get_packed_size(&b->model);
    uint8_t *buf = mb_alloc(b, *out_size + 1);
    onnx__model_proto__pack(&b->model, buf);
    return buf;
}

static const float W43[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};

/* y = MatMul(x[batch,4], W[4,3]): the smallest model that binds. */
static model_builder *matmul_model(void) {
    model_builder *b = mb_new(13);
    gb_input(b, &b->main, "x", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, "batch,4");
    gb_init_f32(b, &b->main, "W", 2, (int64_t[]){4, 3}, W43, 12);
    gb_node(b, &b->main, "MatMul", "mm", "x", "W", "y");
    gb_output(b, &b->main, "y", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, "batch,3");
    return b;
}

static dlc_status import_builder(model_builder *b, const char *base_dir, dlc_graph **g) {
    size_t size;
    uint8_t *bytes = mb_pack(b, &size);
    return dlc_onnx_import_bytes(bytes, size, base_dir, "test.onnx", g);
}

/* Imports and expects failure with code whose message contains every needle. */
static void expect_error(model_builder *b, const char *base_dir, dlc_status code, const char *const *needles) {
    dlc_graph *g = (dlc_graph *)1;
    dlc_status st = import_builder(b, base_dir, &g);
    cr_assert_eq(st, code, "expected %s, got %s: %s", dlc_status_name(code), dlc_status_name(st), dlc_last_error());
    cr_assert_null(g);
    const char *msg = dlc_last_error();
    cr_assert(strncmp(msg, "test.onnx", 9) == 0, "message does not start with the file: %s", msg);
    for (; *needles != NULL; needles++) cr_assert(strstr(msg, *needles) != NULL, "'%s' not in: %s", *needles, msg);
}
#define EXPECT_ERROR(b, dir, code, ...) expect_error(b, dir, code, (const char *const[]){__VA_ARGS__, NULL})

static dlc_graph *import_ok(model_builder *b, const char *base_dir) {
    dlc_graph *g = NULL;
    dlc_status st = import_builder(b, base_dir, &g);
    cr_assert_eq(st, DLC_OK, "%s", dlc_last_error());
    cr_assert_not_null(g);
    return g;
}

/* ---- temp folders ---- */

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static char temp_dir[256];
static char model_dir[512]; /* where import_from_temp writes model.onnx; temp_dir unless a test moves it */

static void make_temp_dir(void) {
    snprintf(temp_dir, sizeof temp_dir, "/tmp/dlc_frontend_test_XXXXXX");
    cr_assert_not_null(mkdtemp(temp_dir));
    snprintf(model_dir, sizeof model_dir, "%s", temp_dir);
}

static void remove_temp_dir(void) {
    if (temp_dir[0] != '\0') nftw(temp_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    temp_dir[0] = '\0';
}

static void write_file(const char *path, const void *data, size_t size) {
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "%s: %s", path, strerror(errno));
    cr_assert_eq(fwrite(data, 1, size, f), size);
    cr_assert_eq(fclose(f), 0);
}

static void *read_file(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s: %s", path, strerror(errno));
    fseek(f, 0, SEEK_END);
    *size = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    void *data = malloc(*size + 1);
    cr_assert_eq(fread(data, 1, *size, f), *size);
    fclose(f);
    return data;
}

static dlc_value *find(dlc_graph *g, const char *name) {
    dlc_value *v = dlc_graph_find_value(g, name);
    cr_assert_not_null(v, "no value '%s'", name);
    return v;
}

/* ---- the zoo ---- */

typedef struct zoo_expect {
    const char *name;
    int32_t inputs, outputs, nodes, consts;
    dlc_dtype input_dtype;
    int64_t opset;
} zoo_expect;

static const zoo_expect zoo[] = {
    {"mlp_mnist", 1, 1, 6, 4, DLC_FLOAT32, 13},
    {"simple_cnn", 1, 1, 14, 10, DLC_FLOAT32, 13},
    {"resnet18_cifar", 1, 1, 51, 42, DLC_FLOAT32, 13},
    {"resnet18_cifar_unfolded", 1, 1, 77, 102, DLC_FLOAT32, 13},
    {"bert_tiny", 2, 1, 245, 24, DLC_INT64, 14},
    {"gpt2_tiny", 1, 1, 240, 21, DLC_INT64, 14},
};

/* Every node reads constants, graph inputs or outputs of earlier nodes.
 * (dlc_graph_verify also wants dtypes, which only inference sets.) */
static void expect_sorted(const dlc_graph *g) {
    for (int32_t i = 0; i < g->num_nodes; i++) {
        const dlc_node *n = g->nodes[i];
        for (int32_t k = 0; k < n->num_inputs; k++) {
            const dlc_value *v = n->inputs[k];
            if (v == NULL || v->kind != DLC_VALUE_INTERMEDIATE) continue;
            bool earlier = false;
            for (int32_t j = 0; j < i && !earlier; j++) earlier = g->nodes[j] == v->producer;
            cr_expect(earlier, "node '%s' reads '%s' before it is produced", n->name, v->name);
        }
    }
}

static dlc_graph *import_zoo(const char *name) {
    char path[512];
    snprintf(path, sizeof path, ZOO "/%s/model.onnx", name);
    dlc_graph *g = NULL;
    cr_assert_eq(dlc_onnx_import_file(path, &g), DLC_OK, "%s", dlc_last_error());
    return g;
}

Test(frontend_zoo, every_model_imports_with_expected_counts) {
    for (size_t i = 0; i < sizeof zoo / sizeof zoo[0]; i++) {
        const zoo_expect *z = &zoo[i];
        dlc_graph *g = import_zoo(z->name);
        cr_expect_eq(g->num_inputs, z->inputs, "%s inputs", z->name);
        cr_expect_eq(g->num_outputs, z->outputs, "%s outputs", z->name);
        cr_expect_eq(g->num_nodes, z->nodes, "%s nodes", z->name);
        int32_t consts = 0;
        for (int32_t v = 0; v < g->num_values; v++) consts += g->values[v] && g->values[v]->kind == DLC_VALUE_CONST;
        cr_expect_eq(consts, z->consts, "%s initializers", z->name);
        cr_expect_eq(g->inputs[0]->dtype, z->input_dtype, "%s input dtype", z->name);
        cr_expect_eq(g->outputs[0]->dtype, DLC_FLOAT32, "%s output dtype", z->name);
        cr_assert_eq(g->num_opsets, 1);
        cr_expect_str_eq(g->opsets[0].domain, "");
        cr_expect_eq(g->opsets[0].version, z->opset);
        for (int32_t n = 0; n < g->num_nodes; n++) {
            cr_expect_not_null(g->nodes[n]->schema, "%s: node %s unbound", z->name, g->nodes[n]->name);
            cr_expect_eq(g->nodes[n]->opset, z->opset);
        }
        cr_expect(strstr(g->source_path, z->name) != NULL);
        expect_sorted(g);
        dlc_graph_free(g);
    }
}

Test(frontend_zoo, mlp_input_shape_and_weights) {
    dlc_graph *g = import_zoo("mlp_mnist");
    const dlc_value *in = g->inputs[0];
    cr_assert_str_eq(in->name, "input");
    cr_assert_eq(in->shape.rank, 4);
    int64_t dims[4] = {1, 1, 28, 28};
    for (int i = 0; i < 4; i++) cr_assert_eq(in->shape.dims[i].value, dims[i]);
    size_t weight_bytes = 0;
    for (int32_t v = 0; v < g->num_values; v++)
        if (g->values[v] && g->values[v]->kind == DLC_VALUE_CONST) {
            cr_assert_eq((uintptr_t)g->values[v]->data % 64, 0);
            weight_bytes += g->values[v]->nbytes;
        }
    cr_assert_eq(weight_bytes, (784 * 128 + 128 + 128 * 10 + 10) * sizeof(float));
    dlc_graph_free(g);
}

Test(frontend_zoo, bert_has_symbolic_batch_and_seq) {
    dlc_graph *g = import_zoo("bert_tiny");
    cr_assert_eq(g->num_inputs, 2);
    cr_assert_str_eq(g->inputs[0]->name, "input_ids");
    cr_assert_str_eq(g->inputs[1]->name, "attention_mask");
    for (int i = 0; i < 2; i++) {
        const dlc_shape *s = &g->inputs[i]->shape;
        cr_assert_eq(s->rank, 2);
        cr_assert_lt(s->dims[0].value, 0);
        cr_assert_lt(s->dims[1].value, 0);
        cr_assert_str_eq(g->symbols[s->dims[0].sym], "batch");
        cr_assert_str_eq(g->symbols[s->dims[1].sym], "seq");
    }
    /* both inputs share the same symbols */
    cr_assert_eq(g->inputs[0]->shape.dims[1].sym, g->inputs[1]->shape.dims[1].sym);
    char buf[128];
    cr_assert_str_eq(dlc_shape_format(g, &g->inputs[0]->shape, buf, sizeof buf), "[batch,seq]");
    /* Constant nodes keep their tensor as an attribute */
    bool saw_constant = false;
    for (int32_t n = 0; n < g->num_nodes; n++)
        if (strcmp(g->nodes[n]->op_type, "Constant") == 0) {
            const dlc_attr *a = dlc_node_attr(g->nodes[n], "value");
            cr_assert_not_null(a);
            cr_assert_eq(a->type, DLC_ATTR_TENSOR);
            cr_assert_not_null(a->tensor);
            saw_constant = true;
        }
    cr_assert(saw_constant);
    dlc_graph_free(g);
}

/* ---- reading files ---- */

Test(frontend_file, missing_file) {
    dlc_graph *g;
    cr_assert_eq(dlc_onnx_import_file("/nonexistent/dir/model.onnx", &g), DLC_ERR_NOT_FOUND);
    cr_assert_null(g);
    cr_assert(strstr(dlc_last_error(), "cannot open '/nonexistent/dir/model.onnx': No such file") != NULL, "%s",
              dlc_last_error());
}

Test(frontend_file, directory, .init = make_temp_dir, .fini = remove_temp_dir) {
    dlc_graph *g;
    cr_assert_eq(dlc_onnx_import_file(temp_dir, &g), DLC_ERR_IO);
    cr_assert(strstr(dlc_last_error(), temp_dir) != NULL);
}

Test(frontend_file, empty_file, .init = make_temp_dir, .fini = remove_temp_dir) {
    char path[512];
    snprintf(path, sizeof path, "%s/empty.onnx", temp_dir);
    write_file(path, "", 0);
    dlc_graph *g;
    cr_assert_eq(dlc_onnx_import_file(path, &g), DLC_ERR_PARSE);
    cr_assert(strstr(dlc_last_error(), "is empty, not an ONNX model") != NULL, "%s", dlc_last_error());
    cr_assert(strstr(dlc_last_error(), path) != NULL);
    cr_assert_eq(dlc_onnx_import_bytes("", 0, NULL, "mem", &g), DLC_ERR_PARSE);
}

Test(frontend_file, random_bytes_fail_cleanly, .init = make_temp_dir, .fini = remove_temp_dir) {
    uint8_t bytes[4096];
    uint64_t state = 12345;
    for (int trial = 0; trial < 200; trial++) {
        size_t len = 1 + (size_t)(trial * 37 % (int)sizeof bytes);
        for (size_t i = 0; i < len; i++) {
            state = state * 6364136223846793005ull + 1442695040888963407ull;
            bytes[i] = (uint8_t)(state >> 56);
        }
        dlc_graph *g = NULL;
        dlc_status st = dlc_onnx_import_bytes(bytes, len, NULL, "random.onnx", &g);
        cr_assert_neq(st, DLC_OK);
        cr_assert_null(g);
        cr_assert(strstr(dlc_last_error(), "random.onnx") != NULL, "%s", dlc_last_error());
    }
    char path[512];
    snprintf(path, sizeof path, "%s/random.onnx", temp_dir);
    write_file(path, "\xff\xff\xff\xff garbage", 13);
    dlc_graph *g;
    cr_assert_eq(dlc_onnx_import_file(path, &g), DLC_ERR_PARSE);
    cr_assert(strstr(dlc_last_error(), "is not a valid ONNX model (protobuf parse failed; truncated or not ONNX?)") != NULL,
              "%s", dlc_last_error());
}

Test(frontend_file, truncated_zoo_model, .init = make_temp_dir, .fini = remove_temp_dir) {
    size_t size;
    uint8_t *bytes = read_file(ZOO "/mlp_mnist/model.onnx", &size);
    size_t cuts[] = {1, 2, 7, 64, 1000, size / 3, size / 2, size - 100, size - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/cut_%zu.onnx", temp_dir, cuts[i]);
        write_file(path, bytes, cuts[i]);
        dlc_graph *g = NULL;
        dlc_status st = dlc_onnx_import_file(path, &g);
        cr_assert_neq(st, DLC_OK, "cut at %zu imported", cuts[i]);
        cr_assert_null(g);
        cr_assert(strstr(dlc_last_error(), path) != NULL, "%s", dlc_last_error());
    }
    free(bytes);
}

Test(frontend_file, parse_without_graph) {
    model_builder *b = mb_new(13);
    b->model.graph = NULL;
    EXPECT_ERROR(b, NULL, DLC_ERR_PARSE, "has no graph");
    mb_free(b);
}

/* Attribute → graph → node → attribute ... nested far deeper than any model:
 * protobuf-c would recurse once per level, so the importer refuses early. */
Test(frontend_file, deep_nesting_is_refused_without_recursion) {
    enum { LEVELS = 100000 };
    /* Built from the inside out at the end of buf: each level wraps what is
     * there as AttributeProto.g(6) in NodeProto.attribute(5) in
     * GraphProto.node(1); the outermost wrap is ModelProto.graph(7). */
    static const uint8_t tags[] = {(6 << 3) | 2, (5 << 3) | 2, (1 << 3) | 2};
    size_t cap = (size_t)LEVELS * 3 * 6 + 16, pos = cap;
    uint8_t *buf = malloc(cap);
    cr_assert_not_null(buf);
    for (int wrap = 0; wrap < LEVELS * 3 + 1; wrap++) {
        uint8_t head[12];
        size_t n = 0, len = cap - pos;
        head[n++] = wrap == LEVELS * 3 ? (7 << 3) | 2 : tags[wrap % 3];
        for (;; len >>= 7) {
            head[n++] = (uint8_t)((len & 0x7f) | (len > 0x7f ? 0x80 : 0));
            if (len <= 0x7f) break;
        }
        pos -= n;
        memcpy(buf + pos, head, n);
    }
    dlc_graph *g = NULL;
    cr_assert_eq(dlc_onnx_import_bytes(buf + pos, cap - pos, NULL, "deep.onnx", &g), DLC_ERR_PARSE, "%s",
                 dlc_last_error());
    cr_assert(strstr(dlc_last_error(), "'deep.onnx' nests messages more than") != NULL, "%s", dlc_last_error());
    free(buf);
}

/* ---- opsets and ops ---- */

Test(frontend_ops, unknown_op_names_op_opset_and_node) {
    model_builder *b = matmul_model();
    gb_node(b, &b->main, "FooBar", "mystery", "y", NULL, "z");
    EXPECT_ERROR(b, NULL, DLC_ERR_UNSUPPORTED, "FooBar", "opset 13", "mystery");
    mb_free(b);
}

Test(frontend_ops, unknown_domain_names_node_and_domain) {
    model_builder *b = matmul_model();
    Onnx__NodeProto *n = gb_node(b, &b->main, "Thing", "custom_node", "y", NULL, "z");
    n->domain = "com.example";
    EXPECT_ERROR(b, NULL, DLC_ERR_PARSE, "custom_node", "com.example");
    mb_free(b);
}

Test(frontend_ops, custom_domain_with_opset_import_reaches_the_registry) {
    model_builder *b = matmul_model();
    mb_add_opset(b, "com.example", 3);
    Onnx__NodeProto *n = gb_node(b, &b->main, "Thing", "custom_node", "y", NULL, "z");
    n->domain = "com.example";
    EXPECT_ERROR(b, NULL, DLC_ERR_UNSUPPORTED, "com.example.Thing", "opset 3", "custom_node");
    mb_free(b);
}

Test(frontend_ops, old_ir_without_opset_import_is_opset_1) {
    model_builder *b = mb_new(0);
    b->model.ir_version = 2;
    gb_input(b, &b->main, "x", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, "2");
    gb_node(b, &b->main, "FooBar", "old", "x", NULL, "y");
    gb_output(b, &b->main, "y", -1, NULL);
    EXPECT_ERROR(b, NULL, DLC_ERR_UNSUPPORTED, "FooBar", "opset 1", "old");
    mb_free(b);
}

Test(frontend_ops, new_ir_without_default_opset_is_an_error) {
    model_builder *b = mb_new(0);
    gb_input(b, &b->main, "x", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, "2");
    gb_node(b, &b->main, "Relu", "r", "x", NULL, "y");
    gb_output(b, &b->main, "y", -1, NULL);
    EXPECT_ERROR(b, NULL, DLC_ERR_PARSE, "'r'", "ai.onnx");
    mb_free(b);
}

Test(frontend_ops, opsets_are_recorded_and_ai_onnx_is_the_default_domain) {
    model_builder *b = mb_new(0);
    mb_add_opset(b, "ai.onnx", 17);
    mb_add_opset(b, "com.microsoft", 1);
    gb_input(b, &b->main, "x", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, "2,4");
    gb_init_f32(b, &b->main, "W", 2, (int64_t[]){4, 3}, W43, 12);
    Onnx__NodeProto *n = gb_node(b, &b->main, "MatMul", "mm", "x", "W", "y");
    n->domain = "ai.onnx";
    gb_output(b, &b->main, "y", -1, NULL);
    dlc_graph *g = import_ok(b, NULL);
    cr_assert_eq(g->num_opsets, 2);
    cr_assert_str_eq(g->opsets[0].domain, "");
    cr_assert_eq(g->opsets[0].version, 17);
    cr_assert_str_eq(g->opsets[1].domain, "com.microsoft");
    cr_assert_str_eq(g->nodes[0]->domain, "");
    cr_assert_eq(g->nodes[0]->opset, 17);
    dlc_graph_free(g);
    mb_free(b);
}

Test(frontend_ops, duplicate_opset_domain_is_an_error) {
    model_builder *b = matmul_model();
    mb_add_opset(b, "ai.onnx", 14);
    EXPECT_ERROR(b, NULL, DLC_ERR_PARSE, "twice");
    mb_free(b);
}

/* ---- graph structure ---- */

Test(frontend_graph, matmul_model_imports) {
    model_builder *b = matmul_model();
    dlc_graph *g = import_ok(b, NULL);
    cr_assert_str_eq(g->name, "test_graph");
    cr_assert_str_eq(g->source_path, "test.onnx");
    cr_assert_eq(g->num_inputs, 1);
    cr_assert_eq(g->num_outputs, 1);
    cr_assert_eq(g->num_nodes, 1);
    dlc_node *n = g->nodes[0];
    cr_assert_str_eq(n->name, "mm");
    cr_assert_str_eq(n->op_type, "MatMul");
    cr_assert_eq(n->opset, 13);
    cr_assert_not_null(n->schema);
    cr_assert_eq(n->inputs[0], g->inputs[0]);
    dlc_value *w = find(g, "W");
    cr_assert_eq(n->inputs[1], w);
    cr_assert_eq(w->kind, DLC_VALUE_CONST);
    cr_assert_eq(w->nbytes, sizeof W43);
    cr_assert_eq(memcmp(w->data, W43, sizeof W43), 0);
    cr_assert_eq(w->num_uses, 1);
    dlc_value *y = g->outputs[0];
    cr_assert_eq(y, n->outputs[0]);
    cr_assert(y->is_graph_output);
    cr_assert_eq(y->producer, n);
    /* the declared output type is kept as a hint */
    cr_assert_eq(y->dtype, DLC_FLOAT32);
    cr_assert_eq(y->shape.rank, 2);
    cr_assert_eq(y->shape.dims[0].sym, g->inputs[0]->shape.dims[0].sym);
    cr_assert_eq(y->shape.dims[1].value, 3);
    dlc_graph_free(g);
    mb_free(b);
}

Test(frontend_graph, unsorted_nodes_are_sorted_and_names_generated) {
    model_builder *b = matmul_model();
    b->main.g.n_node = 0;
    gb_node(b, &b->main, "MatMul", "", "h", "W2", "y2");
    gb_node(b, &b->main, "MatMul", NULL, "x", "W", "h");
    gb_init_f32(b, &b->main, "W2", 2, (int64_t[]){3, 3}, W43, 9);
    b->main.g.n_output = 0;
    gb_output(b, &b->main, "y2", -1, NULL);
    dlc_graph *g = import_ok(b, NULL);
    cr_assert_eq(g->num_nodes, 2);
    cr_assert_str_eq(g->nodes[0]->name, "MatMul_1");
    cr_assert_str_eq(g->nodes[1]->name, "MatMul_0");
    cr_assert_eq(g->outputs[0]->dtype, DLC_DTYPE_UNDEFINED); /* no declared type: left to inference */
    dlc_graph_free(g);
    mb_free(b);
}

Test(frontend_graph, missing_input_names_node_and_input) {
    model_builder *b = matmul_model();
    b->main.nodes[0]->input[1] = "W_missing";
    EXPECT_ERROR(b, NULL, DLC_ERR_PARSE, "'mm'", "W_missing");
    mb_free(b);
}

Test(frontend_graph, missing_graph_output) {
    model_builder *b = matmul_model();
    gb_output(b, &b->main, "nowhere", -1, NULL);
    EXPECT_ERROR(b, NULL, DLC_ERR_PARSE, "nowhere");
    mb_free(b);
}

Test(frontend_graph, cycle_is_an_error_naming_a_node) {
    model_builder *b = matmul_model();
    b->main.g.n_node = 0;
    gb_node(b, &b->main, "MatMul", "ping", "b", "W", "a");
    gb_node(b, &b->main, "MatMul", "pong", "a", "W", "b");
    b->main.g.n_output = 0;
    gb_output(b, &b->main, "b", -1, NULL);
    EXPECT_ERROR(b, NULL, DLC_ERR_PARSE, "cycle", "MatMul");
    mb_free(b);
}

Test(frontend_graph, two_producers_is_an_error) {
    model_builder *b = matmul_model();
    gb_node(b, &b->main, "MatMul", "again", "x", "W", "y");
    EXPECT_ERROR(b, NULL, DLC_ERR_PARSE, "'y'", "two producers", "'mm'", "'again'");
    mb_free(b);
    b = matmul_model();
    gb_node(b, &b->main, "MatMul", "shadow", "x", "W", "W");
    EXPECT_ERROR(b, NULL, DLC_ERR_PARSE, "'W'", "initializer", "'shadow'");
    mb_free(b);
}

Test(frontend_graph, omitted_optional_inputs_and_outputs_are_null) {
    model_builder *b = mb_new(13);
    gb_input(b, &b->main, "a", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, "2,3");
    gb_input(b, &b->main, "bm", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, "3,4");
    Onnx__NodeProto *n = gb_node(b, &b->main, "Gemm", "gemm", "a", "bm", "y");
    n->input[n->n_input++] = "";
    gb_output(b, &b->main, "y", -1, NULL);
    dlc_graph *g = import_ok(b, NULL);
    cr_assert_eq(g->nodes[0]->num_inputs, 3);
    cr_assert_null(g->nodes[0]->inputs[2]);
    dlc_graph_free(g);
    mb_free(b);
}

Test(frontend_graph, initializer_listed_as_input_is_a_constant) {
    model_builder *b = matmul_model();
    gb_input(b, &b->main, "W", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, "4,3");
    dlc_graph *g = import_ok(b, NULL);
    cr_assert_eq(g->num_inputs, 1);
    cr_assert_str_eq(g->inputs[0]->name, "x");
    cr_assert_eq(find(g, "W")->kind, DLC_VALUE_CONST);
    dlc_graph_free(g);
    mb_free(b);
}

Test(frontend_graph, duplicate_input_and_initializer_names) {
    model_builder *b = matmul_model();
    gb_input(b, &b->main, "x", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, "4,3");
    EXPECT_ERROR(b, NULL, DLC_ERR_PARSE, "'x'", "twice");
    mb_free(b);
    b = matmul_model();
    gb_init_f32(b, &b->main, "W", 2, (int64_t[]){4, 3}, W43, 12);
    EXPECT_ERROR(b, NULL, DLC_ERR_PARSE, "'W'", "twice");
    mb_free(b);
}

Test(frontend_graph, symbolic_and_unknown_dims) {
    model_builder *b = matmul_model();
    b->main.g.n_input = 0;
    gb_input(b, &b->main, "x", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, "batch,?,-1,4");
    dlc_graph *g = import_ok(b, NULL);
    const dlc_shape *s = &g->inputs[0]->shape;
    cr_assert_eq(s->rank, 4);
    cr_assert_str_eq(g->symbols[s->dims[0].sym], "batch");
    cr_assert_lt(s->dims[1].value, 0);
    cr_assert_lt(s->dims[2].value, 0);
    cr_assert_neq(s->dims[1].sym, s->dims[0].sym);
    cr_assert_neq(s->dims[1].sym, s->dims[2].sym);
    cr_assert_eq(s->dims[3].value, 4);
    dlc_graph_free(g);
    mb_free(b);
}

Test(frontend_graph, input_without_shape_has_unknown_rank) {
    model_builder *b = matmul_model();
    b->main.g.n_input = 0;
    gb_input(b, &b->main, "x", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, NULL);
    dlc_graph *g = import_ok(b, NULL);
    cr_assert_lt(g->inputs[0]->shape.rank, 0);
    dlc_graph_free(g);
    mb_free(b);
}

Test(frontend_graph, bad_input_types) {
    model_builder *b = matmul_model();
    b->main.inputs[0]->type->value_case = ONNX__TYPE_PROTO__VALUE_SEQUENCE_TYPE;
    b->main.inputs[0]->type->sequence_type = mb_alloc(b, sizeof(Onnx__TypeProto__Sequence));
    onnx__type_proto__sequence__init(b->main.inputs[0]->type->sequence_type);
    EXPECT_ERROR(b, NULL, DLC_ERR_PARSE, "graph input 'x'", "sequence without an element type");
    mb_free(b);
    b = matmul_model();
    Onnx__TypeProto *value_type = mb_alloc(b, sizeof *value_type);
    *value_type = *b->main.inputs[0]->type; /* map<int64, float tensor> */
    b->main.inputs[0]->type->value_case = ONNX__TYPE_PROTO__VALUE_MAP_TYPE;
    b->main.inputs[0]->type->map_type = mb_alloc(b, sizeof(Onnx__TypeProto__Map));
    onnx__type_proto__map__init(b->main.inputs[0]->type->map_type);
    b->main.inputs[0]->type->map_type->has_key_type = 1;
    b->main.inputs[0]->type->map_type->key_type = ONNX__TENSOR_PROTO__DATA_TYPE__INT64;
    b->main.inputs[0]->type->map_type->value_type = value_type;
    EXPECT_ERROR(b, NULL, DLC_ERR_UNSUPPORTED, "graph input 'x'", "is a map");
    mb_free(b);
    b = matmul_model();
    b->main.inputs[0]->type->tensor_type->elem_type = ONNX__TENSOR_PROTO__DATA_TYPE__STRING;
    EXPECT_ERROR(b, NULL, DLC_ERR_UNSUPPORTED, "graph input 'x'", "string tensors are not supported");
    mb_free(b);
    b = matmul_model();
    b->main.inputs[0]->type = NULL;
    EXPECT_ERROR(b, NULL, DLC_ERR_PARSE, "graph input 'x'", "no type");
    mb_free(b);
    b = matmul_model();
    b->main.g.n_input = 0;
    gb_input(b, &b->main, "x", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, "1,1,1,1,1,1,1,1,1");
    EXPECT_ERROR(b, NULL, DLC_ERR_UNSUPPORTED, "graph input 'x'", "rank 9");
    mb_free(b);
}

/* ---- initializers ---- */

static model_builder *model_with_init(Onnx__TensorProto **out) {
    model_builder *b = matmul_model();
    *out = b->main.inits[0];
    return b;
}

Test(frontend_tensors, negative_dim) {
    Onnx__TensorProto *t;
    model_builder *b = model_with_init(&t);
    t->dims[0] = -4;
    EXPECT_ERROR(b, NULL, DLC_ERR_PARSE, "tensor 'W'", "negative dim -4");
    mb_free(b);
}

Test(frontend_tensors, huge_dims_overflow) {
    Onnx__TensorProto *t;
    model_builder *b = model_with_init(&t);
    t->dims[0] = (int64_t)1 << 40;
    t->dims[1] = (int64_t)1 << 40;
    EXPECT_ERROR(b, NULL, DLC_ERR_PARSE, "tensor 'W'", "overflow");
    mb_free(b);
    b = model_with_init(&t);
    t->dims[0] = (int64_t)1 << 31;
    t->dims[1] = (int64_t)1 << 31; /* numel fits, bytes do not */
    EXPECT_ERROR(b, NULL, DLC_ERR_PARSE, "tensor 'W'", "overflow");
    mb_free(b);
    b = model_with_init(&t);
    t->dims[0] = (int64_t)1 << 40; /* fits, but no such data */
    EXPECT_ERROR(b, NULL, DLC_ERR_PARSE, "tensor 'W'", "raw_data has 48 bytes");
    mb_free(b);
}

Test(frontend_tensors, raw_data_size_mismatch) {
    Onnx__TensorProto *t;
    model_builder *b = model_with_init(&t);
    t->raw_data.len = 47;
    EXPECT_ERROR(b, NULL, DLC_ERR_PARSE, "tensor 'W'", "raw_data has 47 bytes", "[4,3]", "needs 48");
    mb_free(b);
}

Test(frontend_tensors, rank_above_max_is_unsupported) {
    Onnx__TensorProto *t;
    model_builder *b = model_with_init(&t);
    int64_t *dims = mb_alloc(b, 9 * sizeof *dims);
    for (int i = 0; i < 9; i++) dims[i] = 1;
    t->dims = dims;
    t->n_dims = 9;
    EXPECT_ERROR(b, NULL, DLC_ERR_UNSUPPORTED, "tensor 'W'", "rank 9");
    mb_free(b);
}

Test(frontend_tensors, string_and_segment_and_unknown_dtype) {
    Onnx__TensorProto *t;
    model_builder *b = model_with_init(&t);
    t->data_type = ONNX__TENSOR_PROTO__DATA_TYPE__STRING;
    EXPECT_ERROR(b, NULL, DLC_ERR_UNSUPPORTED, "'W'", "string tensors are not supported");
    mb_free(b);
    b = model_with_init(&t);
    t->segment = mb_alloc(b, sizeof *t->segment);
    onnx__tensor_proto__segment__init(t->segment);
    EXPECT_ERROR(b, NULL, DLC_ERR_UNSUPPORTED, "'W'", "segment");
    mb_free(b);
    b = model_with_init(&t);
    t->data_type = 17; /* float8e4m3fn */
    EXPECT_ERROR(b, NULL, DLC_ERR_UNSUPPORTED, "'W'", "data type 17");
    mb_free(b);
    b = model_with_init(&t);
    t->has_data_type = 0;
    EXPECT_ERROR(b, NULL, DLC_ERR_PARSE, "'W'", "no data type");
    mb_free(b);
}

Test(frontend_tensors, data_in_two_places_or_wrong_field) {
    Onnx__TensorProto *t;
    model_builder *b = model_with_init(&t);
    t->n_float_data = 12;
    t->float_data = (float *)W43;
    EXPECT_ERROR(b, NULL, DLC_ERR_PARSE, "'W'", "more than one place");
    mb_free(b);
    b = model_with_init(&t);
    t->has_raw_data = 0;
    t->n_int64_data = 12;
    t->int64_data = mb_alloc(b, 12 * sizeof(int64_t));
    EXPECT_ERROR(b, NULL, DLC_ERR_PARSE, "'W'", "float_data");
    mb_free(b);
    b = model_with_init(&t);
    t->has_raw_data = 0;
    t->n_float_data = 11;
    t->float_data = (float *)W43;
    EXPECT_ERROR(b, NULL, DLC_ERR_PARSE, "'W'", "11 values in float_data");
    mb_free(b);
}

/* An extra initializer of every dtype, stored in its typed field, comes out as dense bytes. */
Test(frontend_tensors, typed_fields_of_every_dtype) {
    model_builder *b = matmul_model();
    static float f32[3] = {1.5f, -2, 3};
    static int32_t i32_vals[3] = {-1, 200, 7};
    static int32_t bits16[3] = {0x3c00, 0xc000, 0x7bff};
    static int32_t bools[3] = {0, 5, 1};
    static int64_t i64[3] = {-5, 1LL << 40, 9};
    static double f64[3] = {0.25, -1e300, 3};
    static uint64_t u64[3] = {1, UINT64_MAX, 3};
    static float c64[6] = {1, 2, 3, 4, 5, 6};
    struct {
        const char *name;
        int32_t dtype;
    } cases[] = {{"f32", DLC_FLOAT32}, {"i8", DLC_INT8},     {"u8", DLC_UINT8},   {"i16", DLC_INT16},
                 {"u16", DLC_UINT16},  {"i32", DLC_INT32},   {"bool", DLC_BOOL},  {"f16", DLC_FLOAT16},
                 {"bf16", DLC_BFLOAT16}, {"i64", DLC_INT64}, {"f64", DLC_FLOAT64}, {"u32", DLC_UINT32},
                 {"u64", DLC_UINT64},  {"c64", DLC_COMPLEX64}};
    enum { NUM_CASES = sizeof cases / sizeof cases[0] };
    for (int i = 0; i < NUM_CASES; i++) {
        Onnx__TensorProto *t = mb_tensor(b, cases[i].name, cases[i].dtype, 1, (int64_t[]){3});
        switch (cases[i].dtype) {
        case DLC_FLOAT32: t->n_float_data = 3, t->float_data = f32; break;
        case DLC_COMPLEX64: t->n_float_data = 6, t->float_data = c64; break;
        case DLC_INT64: t->n_int64_data = 3, t->int64_data = i64; break;
        case DLC_FLOAT64: t->n_double_data = 3, t->double_data = f64; break;
        case DLC_UINT32:
        case DLC_UINT64: t->n_uint64_data = 3, t->uint64_data = u64; break;
        case DLC_BOOL: t->n_int32_data = 3, t->int32_data = bools; break;
        case DLC_FLOAT16:
        case DLC_BFLOAT16: t->n_int32_data = 3, t->int32_data = bits16; break;
        default: t->n_int32_data = 3, t->int32_data = i32_vals; break;
        }
        b->main.inits[b->main.g.n_initializer++] = t;
    }
    dlc_graph *g = import_ok(b, NULL);
    for (int i = 0; i < NUM_CASES; i++) {
        dlc_value *v = find(g, cases[i].name);
        cr_assert_eq(v->kind, DLC_VALUE_CONST);
        cr_assert_eq((int)v->dtype, cases[i].dtype);
        cr_assert_eq(v->shape.rank, 1);
        cr_assert_eq(v->shape.dims[0].value, 3);
        cr_assert_eq(v->nbytes, 3 * dlc_dtype_size(v->dtype), "%s", cases[i].name);
    }
    cr_assert_eq(memcmp(find(g, "f32")->data, f32, sizeof f32), 0);
    cr_assert_eq(memcmp(find(g, "c64")->data, c64, sizeof c64), 0);
    cr_assert_eq(memcmp(find(g, "i64")->data, i64, sizeof i64), 0);
    cr_assert_eq(memcmp(find(g, "f64")->data, f64, sizeof f64), 0);
    cr_assert_eq(memcmp(find(g, "u64")->data, u64, sizeof u64), 0);
    cr_assert_eq(memcmp(find(g, "i32")->data, i32_vals, sizeof i32_vals), 0);
    const int8_t *i8 = find(g, "i8")->data;
    cr_assert(i8[0] == -1 && i8[1] == (int8_t)200 && i8[2] == 7);
    const uint8_t *u8 = find(g, "u8")->data;
    cr_assert(u8[0] == 255 && u8[1] == 200 && u8[2] == 7);
    const int16_t *i16 = find(g, "i16")->data;
    cr_assert(i16[0] == -1 && i16[1] == 200 && i16[2] == 7);
    const uint16_t *f16 = find(g, "f16")->data;
    cr_assert(f16[0] == 0x3c00 && f16[1] == 0xc000 && f16[2] == 0x7bff);
    const uint8_t *bl = find(g, "bool")->data;
    cr_assert(bl[0] == 0 && bl[1] == 1 && bl[2] == 1);
    const uint32_t *u32 = find(g, "u32")->data;
    cr_assert(u32[0] == 1 && u32[1] == UINT32_MAX && u32[2] == 3);
    dlc_graph_free(g);
    mb_free(b);
}

Test(frontend_tensors, empty_and_scalar_tensors) {
    model_builder *b = matmul_model();
    Onnx__TensorProto *empty = mb_tensor(b, "empty", DLC_FLOAT32, 2, (int64_t[]){0, 5});
    b->main.inits[b->main.g.n_initializer++] = empty;
    static const int64_t seven = 7;
    Onnx__TensorProto *scalar = mb_tensor(b, "scalar", DLC_INT64, 0, NULL);
    tensor_raw(scalar, &seven, sizeof seven);
    b->main.inits[b->main.g.n_initializer++] = scalar;
    dlc_graph *g = import_ok(b, NULL);
    cr_assert_eq(find(g, "empty")->nbytes, 0);
    cr_assert_eq(find(g, "empty")->shape.rank, 2);
    dlc_value *s = find(g, "scalar");
    cr_assert_eq(s->shape.rank, 0);
    cr_assert_eq(*(const int64_t *)s->data, 7);
    dlc_graph_free(g);
    mb_free(b);
}

/* ---- external data ---- */

static Onnx__TensorProto *external_init(model_builder *b, const char *location, const char *offset, const char *length) {
    Onnx__TensorProto *t = b->main.inits[0];
    t->has_raw_data = 0;
    t->has_data_location = 1;
    t->data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
    t->external_data = mb_alloc(b, 4 * sizeof *t->external_data);
    const char *keys[3] = {"location", "offset", "length"};
    const char *values[3] = {location, offset, length};
    for (int i = 0; i < 3; i++) {
        if (values[i] == NULL) continue;
        Onnx__StringStringEntryProto *e = mb_alloc(b, sizeof *e);
        onnx__string_string_entry_proto__init(e);
        e->key = (char *)keys[i];
        e->value = (char *)values[i];
        t->external_data[t->n_external_data++] = e;
    }
    return t;
}

/* weights.bin: 16 bytes of padding, then W43. */
static void write_weights(const char *dir) {
    char path[512];
    uint8_t bytes[16 + sizeof W43];
    memset(bytes, 0xee, 16);
    memcpy(bytes + 16, W43, sizeof W43);
    snprintf(path, sizeof path, "%s/weights.bin", dir);
    write_file(path, bytes, sizeof bytes);
}

static dlc_status import_from_temp(model_builder *b, dlc_graph **g) {
    size_t size;
    uint8_t *bytes = mb_pack(b, &size);
    char path[1024];
    snprintf(path, sizeof path, "%s/model.onnx", model_dir);
    write_file(path, bytes, size);
    return dlc_onnx_import_file(path, g);
}

Test(frontend_external, valid_external_data, .init = make_temp_dir, .fini = remove_temp_dir) {
    write_weights(temp_dir);
    model_builder *b = matmul_model();
    external_init(b, "weights.bin", "16", "48");
    dlc_graph *g;
    cr_assert_eq(import_from_temp(b, &g), DLC_OK, "%s", dlc_last_error());
    dlc_value *w = find(g, "W");
    cr_assert_eq(w->nbytes, sizeof W43);
    cr_assert_eq(memcmp(w->data, W43, sizeof W43), 0);
    dlc_graph_free(g);
    mb_free(b);
    /* no length: the rest of the file */
    b = matmul_model();
    external_init(b, "./weights.bin", "16", NULL);
    cr_assert_eq(import_from_temp(b, &g), DLC_OK, "%s", dlc_last_error());
    cr_assert_eq(memcmp(find(g, "W")->data, W43, sizeof W43), 0);
    dlc_graph_free(g);
    mb_free(b);
    /* a subfolder is inside */
    char sub[512];
    snprintf(sub, sizeof sub, "%s/data", temp_dir);
    cr_assert_eq(mkdir(sub, 0700), 0);
    write_weights(sub);
    b = matmul_model();
    external_init(b, "data/weights.bin", "16", "48");
    cr_assert_eq(import_from_temp(b, &g), DLC_OK, "%s", dlc_last_error());
    dlc_graph_free(g);
    mb_free(b);
}

static void expect_external_error(const char *location, const char *offset, const char *length, dlc_status code,
                                  const char *needle) {
    model_builder *b = matmul_model();
    external_init(b, location, offset, length);
    dlc_graph *g = (dlc_graph *)1;
    dlc_status st = import_from_temp(b, &g);
    cr_assert_eq(st, code, "%s: got %s: %s", location, dlc_status_name(st), dlc_last_error());
    cr_assert_null(g);
    cr_assert(strstr(dlc_last_error(), "model.onnx") != NULL, "%s", dlc_last_error());
    cr_assert(strstr(dlc_last_error(), "'W'") != NULL, "%s", dlc_last_error());
    cr_assert(strstr(dlc_last_error(), needle) != NULL, "'%s' not in: %s", needle, dlc_last_error());
    mb_free(b);
}

Test(frontend_external, escaping_the_folder_is_refused, .init = make_temp_dir, .fini = remove_temp_dir) {
    char inner[512], outside[512], link[512];
    snprintf(inner, sizeof inner, "%s/inner", temp_dir);
    cr_assert_eq(mkdir(inner, 0700), 0);
    write_weights(temp_dir); /* outside the model folder "inner" */
    snprintf(outside, sizeof outside, "%s/weights.bin", temp_dir);
    snprintf(link, sizeof link, "%s/inner/link.bin", temp_dir);
    cr_assert_eq(symlink(outside, link), 0);
    snprintf(model_dir, sizeof model_dir, "%s", inner); /* the model goes into inner/ */
    expect_external_error("../weights.bin", "16", "48", DLC_ERR_PARSE, "'..'");
    expect_external_error("a/../../weights.bin", "16", "48", DLC_ERR_PARSE, "'..'");
    expect_external_error(outside, "16", "48", DLC_ERR_PARSE, "absolute");
    expect_external_error("link.bin", "16", "48", DLC_ERR_PARSE, "outside the model's folder");
    expect_external_error("", "16", "48", DLC_ERR_PARSE, "location");
    expect_external_error("absent.bin", "0", "48", DLC_ERR_NOT_FOUND, "absent.bin");
}

Test(frontend_external, ranges_outside_the_file, .init = make_temp_dir, .fini = remove_temp_dir) {
    write_weights(temp_dir); /* 64 bytes */
    expect_external_error("weights.bin", "32", "48", DLC_ERR_PARSE, "past the end");
    expect_external_error("weights.bin", "65", "48", DLC_ERR_PARSE, "past the end");
    expect_external_error("weights.bin", "9223372036854775807", "9223372036854775807", DLC_ERR_PARSE, "past the end");
    expect_external_error("weights.bin", "99999999999999999999", "48", DLC_ERR_PARSE, "not a size");
    expect_external_error("weights.bin", "-1", "48", DLC_ERR_PARSE, "not a size");
    expect_external_error("weights.bin", "0", "40", DLC_ERR_PARSE, "needs 48");
    expect_external_error("weights.bin", "0", NULL, DLC_ERR_PARSE, "needs 48"); /* 64 bytes left */
}

Test(frontend_external, bytes_in_memory_refuse_external_data) {
    model_builder *b = matmul_model();
    external_init(b, "weights.bin", "0", "48");
    EXPECT_ERROR(b, NULL, DLC_ERR_UNSUPPORTED, "'W'", "external data");
    mb_free(b);
}

/* ---- attributes ---- */

Test(frontend_attrs, every_attribute_type) {
    model_builder *b = matmul_model();
    Onnx__NodeProto *n = b->main.nodes[0];
    Onnx__AttributeProto *i = node_attr(b, n, "an_int", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
    i->has_i = 1; /* proto2: only fields marked present are written */
    i->i = -42;
    Onnx__AttributeProto *f = node_attr(b, n, "a_float", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT);
    f->has_f = 1;
    f->f = 0.5f;
    Onnx__AttributeProto *s = node_attr(b, n, "a_string", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING);
    s->has_s = 1;
    s->s.data = (uint8_t *)"NOTSET";
    s->s.len = 6;
    Onnx__AttributeProto *ints = node_attr(b, n, "ints", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);
    static int64_t iv[3] = {1, -2, 3};
    ints->ints = iv;
    ints->n_ints = 3;
    Onnx__AttributeProto *floats = node_attr(b, n, "floats", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS);
    static float fv[2] = {0.25f, -8};
    floats->floats = fv;
    floats->n_floats = 2;
    Onnx__AttributeProto *strs = node_attr(b, n, "strings", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS);
    static ProtobufCBinaryData sv[2] = {{2, (uint8_t *)"ab"}, {0, NULL}};
    strs->strings = sv;
    strs->n_strings = 2;
    Onnx__AttributeProto *ta = node_attr(b, n, "tensor", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR);
    static const int64_t tv[2] = {5, 6};
    ta->t = mb_tensor(b, "", DLC_INT64, 1, (int64_t[]){2});
    tensor_raw(ta->t, tv, sizeof tv);
    /* untyped attribute (IR version 1 style): the set field tells the type */
    Onnx__AttributeProto *old = node_attr(b, n, "untyped", 0);
    old->has_type = 0;
    old->has_i = 1;
    old->i = 9;
    /* a subgraph reading an outer value (W) and its own input */
    graph_builder *sub = mb_alloc(b, sizeof *sub);
    gb_init(sub, "body");
    gb_input(b, sub, "s_in", DLC_FLOAT32, "2,4");
    gb_node(b, sub, "MatMul", "inner", "s_in", "W", "s_out");
    gb_output(b, sub, "s_out", -1, NULL);
    node_attr(b, n, "body", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH)->g = &sub->g;

    dlc_graph *g = import_ok(b, NULL);
    dlc_node *node = g->nodes[0];
    cr_assert_eq(node->num_attrs, 9);
    cr_assert_eq(dlc_node_attr_int(node, "an_int", 0), -42);
    cr_assert_eq(dlc_node_attr_int(node, "untyped", 0), 9);
    cr_assert_float_eq(dlc_node_attr_float(node, "a_float", 0), 0.5, 1e-12);
    cr_assert_str_eq(dlc_node_attr_string(node, "a_string", ""), "NOTSET");
    int32_t count;
    const int64_t *gi = dlc_node_attr_ints(node, "ints", &count);
    cr_assert_eq(count, 3);
    cr_assert(gi[0] == 1 && gi[1] == -2 && gi[2] == 3);
    const double *gf = dlc_node_attr_floats(node, "floats", &count);
    cr_assert_eq(count, 2);
    cr_assert(gf[0] == 0.25 && gf[1] == -8);
    const dlc_attr *a = dlc_node_attr(node, "strings");
    cr_assert_eq(a->type, DLC_ATTR_STRINGS);
    cr_assert_eq(a->count, 2);
    cr_assert_str_eq(a->strings[0], "ab");
    cr_assert_str_eq(a->strings[1], "");
    a = dlc_node_attr(node, "tensor");
    cr_assert_eq(a->type, DLC_ATTR_TENSOR);
    cr_assert_eq(a->tensor->dtype, DLC_INT64);
    cr_assert_eq(a->tensor->kind, DLC_VALUE_CONST);
    cr_assert_str_eq(a->tensor->name, "tensor");
    cr_assert_eq(memcmp(a->tensor->data, tv, sizeof tv), 0);
    a = dlc_node_attr(node, "body");
    cr_assert_eq(a->type, DLC_ATTR_GRAPH);
    dlc_graph *body = a->graph;
    cr_assert_not_null(body);
    cr_assert_str_eq(body->name, "body");
    cr_assert_eq(body->num_nodes, 1);
    cr_assert_eq(body->num_inputs, 2); /* its own, then the captured outer value */
    cr_assert_str_eq(body->inputs[0]->name, "s_in");
    cr_assert_str_eq(body->inputs[1]->name, "W");
    cr_assert_eq(body->inputs[1]->dtype, DLC_FLOAT32);
    cr_assert_eq(body->inputs[1]->shape.dims[1].value, 3);
    cr_assert_eq(body->outputs[0], body->nodes[0]->outputs[0]);
    cr_assert_not_null(body->nodes[0]->schema);
    cr_assert_eq(body->num_opsets, 1);
    dlc_graph_free(g);
    mb_free(b);
}

Test(frontend_attrs, refused_attributes_name_node_and_attribute) {
    model_builder *b = matmul_model();
    node_attr(b, b->main.nodes[0], "sparse", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__SPARSE_TENSOR);
    EXPECT_ERROR(b, NULL, DLC_ERR_UNSUPPORTED, "'mm'", "'sparse'", "sparse tensor");
    mb_free(b);
    b = matmul_model();
    node_attr(b, b->main.nodes[0], "tp", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TYPE_PROTO);
    EXPECT_ERROR(b, NULL, DLC_ERR_UNSUPPORTED, "'mm'", "'tp'");
    mb_free(b);
    b = matmul_model();
    node_attr(b, b->main.nodes[0], "dup", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
    node_attr(b, b->main.nodes[0], "dup", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
    EXPECT_ERROR(b, NULL, DLC_ERR_PARSE, "'mm'", "'dup'", "twice");
    mb_free(b);
    b = matmul_model();
    node_attr(b, b->main.nodes[0], "g", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH);
    EXPECT_ERROR(b, NULL, DLC_ERR_PARSE, "'mm'", "'g'", "no graph");
    mb_free(b);
    b = matmul_model();
    Onnx__AttributeProto *t = node_attr(b, b->main.nodes[0], "t", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR);
    t->t = mb_tensor(b, "bad", DLC_FLOAT32, 1, (int64_t[]){4});
    tensor_raw(t->t, W43, 12);
    EXPECT_ERROR(b, NULL, DLC_ERR_PARSE, "'mm'", "'t'", "raw_data has 12 bytes");
    mb_free(b);
}

Test(frontend_attrs, errors_inside_subgraphs_name_the_attribute) {
    model_builder *b = matmul_model();
    graph_builder *sub = mb_alloc(b, sizeof *sub);
    gb_init(sub, "body");
    gb_node(b, sub, "FooBar", "deep_node", "W", NULL, "z");
    gb_output(b, sub, "z", -1, NULL);
    node_attr(b, b->main.nodes[0], "then_branch", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH)->g = &sub->g;
    EXPECT_ERROR(b, NULL, DLC_ERR_UNSUPPORTED, "then_branch", "FooBar", "deep_node");
    mb_free(b);
    /* names that exist nowhere are still errors in a subgraph */
    b = matmul_model();
    sub = mb_alloc(b, sizeof *sub);
    gb_init(sub, "body");
    gb_node(b, sub, "MatMul", "reader", "W", "ghost", "z");
    gb_output(b, sub, "z", -1, NULL);
    node_attr(b, b->main.nodes[0], "body", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH)->g = &sub->g;
    EXPECT_ERROR(b, NULL, DLC_ERR_PARSE, "'reader'", "ghost");
    mb_free(b);
}

Test(frontend_attrs, subgraph_nesting_is_capped) {
    model_builder *b = matmul_model();
    Onnx__NodeProto *holder = b->main.nodes[0];
    for (int level = 0; level < 20; level++) {
        graph_builder *sub = mb_alloc(b, sizeof *sub);
        gb_init(sub, "nested");
        Onnx__NodeProto *n = gb_node(b, sub, "MatMul", "n", "W", "W", "o");
        gb_output(b, sub, "o", -1, NULL);
        node_attr(b, holder, "body", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH)->g = &sub->g;
        holder = n;
    }
    EXPECT_ERROR(b, NULL, DLC_ERR_UNSUPPORTED, "nested more than 16");
    mb_free(b);
}

/* ---- the fuzz corpus, replayed: no crash, and failures explain themselves ---- */

static void replay_dir(const char *dir, int *count) {
    DIR *d = opendir(dir);
    cr_assert_not_null(d, "%s: %s", dir, strerror(errno));
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (e->d_name[0] == '.') continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat st;
        cr_assert_eq(stat(path, &st), 0);
        if (S_ISDIR(st.st_mode)) {
            replay_dir(path, count);
            continue;
        }
        size_t size;
        void *bytes = read_file(path, &size);
        dlc_graph *g = NULL;
        dlc_status status = dlc_onnx_import_bytes(bytes, size, NULL, e->d_name, &g);
        if (status == DLC_OK) {
            cr_assert_not_null(g, "%s", path);
            dlc_graph_free(g);
        } else {
            cr_assert_null(g, "%s", path);
            cr_assert(dlc_last_error()[0] != '\0', "%s failed without a message", path);
        }
        free(bytes);
        (*count)++;
    }
    closedir(d);
}

Test(frontend_fuzz_corpus, every_file_replays_cleanly) {
    int count = 0;
    replay_dir(DLC_SOURCE_DIR "/tests/fuzz/corpus", &count);
    cr_assert_gt(count, 10, "the corpus has only %d files", count);
}
