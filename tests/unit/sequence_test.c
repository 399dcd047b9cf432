/* Sequences and optionals expanded at compile time (passes/sequence.c),
 * flattened graph inputs (codegen/bind_sequences.c) and outputs, and the
 * SequenceProto/OptionalProto files of backend-test data
 * (frontend/tensor_file.c). Graphs built in C are inferred and folded, so
 * constant results check the semantics natively. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "codegen/compile.h"
#include "dlc/dlc.h"
#include "frontend/tensor_file.h"
#include "ir/graph.h"
#include "ir/subgraph.h"
#include "onnx/onnx_data.pb-c.h"
#include "passes/pipeline.h"

static dlc_graph *new_graph(const char *name) {
    dlc_graph *g;
    cr_assert_eq(dlc_graph_create(name, &g), DLC_OK);
    return g;
}

static dlc_value *typed(dlc_graph *g, const char *name, dlc_value_kind kind, dlc_dtype dtype, int32_t rank,
                        const int64_t *dims) {
    dlc_shape s = dlc_shape_make(rank, dims);
    dlc_value *v;
    cr_assert_eq(dlc_graph_add_value(g, name, kind, dtype, rank < 0 ? NULL : &s, &v), DLC_OK, "%s", dlc_last_error());
    return v;
}

static dlc_value *temp(dlc_graph *g, const char *name) {
    return typed(g, name, DLC_VALUE_INTERMEDIATE, DLC_DTYPE_UNDEFINED, -1, NULL);
}

static dlc_value *const_f32(dlc_graph *g, const char *name, int32_t rank, const int64_t *dims, const float *data) {
    dlc_shape s = dlc_shape_make(rank, dims);
    dlc_value *v;
    size_t nbytes = (size_t)dlc_shape_numel(&s) * sizeof(float);
    cr_assert_eq(dlc_graph_add_const(g, name, DLC_FLOAT32, &s, data, nbytes, &v), DLC_OK, "%s", dlc_last_error());
    return v;
}

static dlc_value *scalar_i64(dlc_graph *g, const char *name, int64_t v) {
    dlc_shape s = {.rank = 0};
    dlc_value *out;
    cr_assert_eq(dlc_graph_add_const(g, name, DLC_INT64, &s, &v, sizeof v, &out), DLC_OK);
    return out;
}

static dlc_node *node(dlc_graph *g, const char *name, const char *op, int32_t opset, int32_t n_in, dlc_value **in,
                      dlc_value *out) {
    dlc_node *n;
    cr_assert_eq(dlc_graph_add_node(g, name, op, "", opset, n_in, in, 1, &out, &n), DLC_OK, "%s", dlc_last_error());
    return n;
}

static void int_attr(dlc_node *n, const char *name, int64_t v) {
    dlc_attr a = {.name = (char *)name, .type = DLC_ATTR_INT, .i = v};
    cr_assert_eq(dlc_node_add_attr(n, &a), DLC_OK);
}

static void set_outputs(dlc_graph *g, int32_t count, dlc_value **outs) {
    free(g->outputs);
    g->outputs = calloc((size_t)count + 1, sizeof *g->outputs);
    memcpy(g->outputs, outs, (size_t)count * sizeof *outs);
    g->num_outputs = count;
    dlc_graph_update_uses(g);
}

static void expect_floats(const dlc_value *v, const float *want, int64_t count) {
    cr_assert_eq(v->kind, DLC_VALUE_CONST, "'%s' was not folded", v->name);
    cr_assert_eq(v->dtype, DLC_FLOAT32);
    cr_assert_eq(dlc_value_numel(v), count, "'%s' has %lld elements", v->name, (long long)dlc_value_numel(v));
    for (int64_t i = 0; i < count; i++)
        cr_assert_float_eq(((const float *)v->data)[i], want[i], 1e-6, "'%s'[%lld]", v->name, (long long)i);
}

static int count_ops(const dlc_graph *g, const char *op) {
    int n = 0;
    for (int32_t i = 0; i < g->num_nodes; i++) n += strcmp(g->nodes[i]->op_type, op) == 0;
    return n;
}

static void expect_error(dlc_graph *g, dlc_status code, const char *a, const char *b) {
    dlc_status st = dlc_infer_and_fold(g);
    cr_assert_eq(st, code, "got %s: %s", dlc_status_name(st), dlc_last_error());
    cr_assert(strstr(dlc_last_error(), a) != NULL, "'%s' not in: %s", a, dlc_last_error());
    cr_assert(b == NULL || strstr(dlc_last_error(), b) != NULL, "'%s' not in: %s", b, dlc_last_error());
}

static const float X23[6] = {1, 2, 3, 4, 5, 6}; /* [[1,2,3],[4,5,6]] */

/* SplitToSequence(x [2,3], axis=1, keepdims=0) → 3 columns of [2];
 * SequenceLength, SequenceAt(-1), ConcatFromSequence(new_axis=1, axis=1)
 * rebuilds x. */
Test(sequence, split_length_at_and_concat_fold) {
    dlc_graph *g = new_graph("split");
    dlc_value *x = const_f32(g, "x", 2, (int64_t[]){2, 3}, X23);
    dlc_value *seq = temp(g, "seq"), *len = temp(g, "len"), *last = temp(g, "last"), *back = temp(g, "back");
    dlc_node *split = node(g, "split", "SplitToSequence", 11, 1, &x, seq);
    int_attr(split, "axis", 1);
    int_attr(split, "keepdims", 0);
    node(g, "len", "SequenceLength", 11, 1, &seq, len);
    dlc_value *at_in[2] = {seq, scalar_i64(g, "minus1", -1)};
    node(g, "at", "SequenceAt", 11, 2, at_in, last);
    dlc_node *concat = node(g, "concat", "ConcatFromSequence", 11, 1, &seq, back);
    int_attr(concat, "axis", 1);
    int_attr(concat, "new_axis", 1);
    dlc_value *outs[3] = {len, last, back};
    set_outputs(g, 3, outs);
    cr_assert_eq(dlc_infer_and_fold(g), DLC_OK, "%s", dlc_last_error());
    cr_assert_eq(len->kind, DLC_VALUE_CONST);
    cr_assert_eq(*(const int64_t *)len->data, 3);
    expect_floats(last, (const float[]){3, 6}, 2);
    cr_assert_eq(back->shape.rank, 2);
    expect_floats(back, X23, 6);
    cr_assert_eq(count_ops(g, "SplitToSequence") + count_ops(g, "ConcatFromSequence"), 0);
    cr_assert_eq(dlc_graph_verify(g), DLC_OK, "%s", dlc_last_error());
    dlc_graph_free(g);
}

/* SplitToSequence with split [1,2] along axis 1 keeps the axis. */
Test(sequence, split_by_lengths_keeps_the_axis) {
    dlc_graph *g = new_graph("split2");
    dlc_value *x = const_f32(g, "x", 2, (int64_t[]){2, 3}, X23);
    int64_t lengths[2] = {1, 2};
    dlc_shape s = dlc_shape_make(1, (int64_t[]){2});
    dlc_value *split;
    cr_assert_eq(dlc_graph_add_const(g, "split_lengths", DLC_INT64, &s, lengths, sizeof lengths, &split), DLC_OK);
    dlc_value *seq = temp(g, "seq"), *second = temp(g, "second");
    dlc_value *in[2] = {x, split};
    int_attr(node(g, "split", "SplitToSequence", 11, 2, in, seq), "axis", 1);
    dlc_value *at_in[2] = {seq, scalar_i64(g, "one", 1)};
    node(g, "at", "SequenceAt", 11, 2, at_in, second);
    set_outputs(g, 1, &second);
    cr_assert_eq(dlc_infer_and_fold(g), DLC_OK, "%s", dlc_last_error());
    cr_assert_eq(second->shape.rank, 2);
    cr_assert_eq(second->shape.dims[1].value, 2);
    expect_floats(second, (const float[]){2, 3, 5, 6}, 4);
    dlc_graph_free(g);

    g = new_graph("split3"); /* lengths that do not add up to the axis */
    x = const_f32(g, "x", 2, (int64_t[]){2, 3}, X23);
    lengths[1] = 1;
    cr_assert_eq(dlc_graph_add_const(g, "split_lengths", DLC_INT64, &s, lengths, sizeof lengths, &split), DLC_OK);
    seq = temp(g, "seq");
    dlc_value *in2[2] = {x, split};
    int_attr(node(g, "bad_split", "SplitToSequence", 11, 2, in2, seq), "axis", 1);
    set_outputs(g, 1, &seq);
    expect_error(g, DLC_ERR_SHAPE_MISMATCH, "'bad_split'", "sums to 2");
    dlc_graph_free(g);
}

/* Construct(a, b), Insert(c at 1) → [a, c, b], Erase(0) → [c, b]: the graph
 * output, a sequence, becomes outputs "out[0]", "out[1]". */
Test(sequence, construct_insert_erase_and_flattened_output) {
    dlc_graph *g = new_graph("edit");
    int64_t one[1] = {1};
    dlc_value *a = const_f32(g, "a", 1, one, (const float[]){1});
    dlc_value *b = const_f32(g, "b", 1, one, (const float[]){2});
    dlc_value *c = const_f32(g, "c", 1, one, (const float[]){3});
    dlc_value *s1 = temp(g, "s1"), *s2 = temp(g, "s2"), *out = temp(g, "out");
    dlc_value *ab[2] = {a, b};
    node(g, "construct", "SequenceConstruct", 11, 2, ab, s1);
    dlc_value *ins[3] = {s1, c, scalar_i64(g, "p1", 1)};
    node(g, "insert", "SequenceInsert", 11, 3, ins, s2);
    dlc_value *er[2] = {s2, scalar_i64(g, "p0", 0)};
    node(g, "erase", "SequenceErase", 11, 2, er, out);
    set_outputs(g, 1, &out);
    cr_assert_eq(dlc_infer_and_fold(g), DLC_OK, "%s", dlc_last_error());
    cr_assert_eq(g->num_outputs, 2);
    cr_assert_str_eq(g->outputs[0]->name, "out[0]");
    cr_assert_str_eq(g->outputs[1]->name, "out[1]");
    expect_floats(g->outputs[0], (const float[]){3}, 1);
    expect_floats(g->outputs[1], (const float[]){2}, 1);
    cr_assert_eq(g->num_nodes, 0, "everything was constant");
    dlc_graph_free(g);
}

Test(sequence, positions_out_of_range_or_at_run_time_are_refused_by_name) {
    dlc_graph *g = new_graph("range");
    int64_t one[1] = {1};
    dlc_value *a = const_f32(g, "a", 1, one, (const float[]){1});
    dlc_value *s = temp(g, "s"), *y = temp(g, "y");
    node(g, "construct", "SequenceConstruct", 11, 1, &a, s);
    dlc_value *at[2] = {s, scalar_i64(g, "p", 1)};
    node(g, "far_at", "SequenceAt", 11, 2, at, y);
    set_outputs(g, 1, &y);
    expect_error(g, DLC_ERR_INVALID_ARGUMENT, "'far_at'", "position 1 is out of range for a sequence of length 1");
    dlc_graph_free(g);

    g = new_graph("runtime");
    a = const_f32(g, "a", 1, one, (const float[]){1});
    s = temp(g, "s"), y = temp(g, "y");
    node(g, "construct", "SequenceConstruct", 11, 1, &a, s);
    dlc_value *at2[2] = {s, typed(g, "pos", DLC_VALUE_INPUT, DLC_INT64, 0, NULL)};
    node(g, "runtime_at", "SequenceAt", 11, 2, at2, y);
    set_outputs(g, 1, &y);
    expect_error(g, DLC_ERR_UNSUPPORTED, "'runtime_at'", "--bind");
    dlc_graph_free(g);

    g = new_graph("not_a_sequence"); /* a tensor where a sequence is expected */
    a = const_f32(g, "a", 1, one, (const float[]){1});
    y = temp(g, "y");
    node(g, "len_of_tensor", "SequenceLength", 11, 1, &a, y);
    set_outputs(g, 1, &y);
    expect_error(g, DLC_ERR_PARSE, "'len_of_tensor'", "takes a sequence");
    dlc_graph_free(g);
}

/* Optional(x) holds x, Optional(type=...) holds nothing; HasElement folds,
 * GetElement of an absent optional is refused by name. */
Test(sequence, optionals_present_and_absent) {
    dlc_graph *g = new_graph("opt");
    int64_t one[1] = {1};
    dlc_value *x = const_f32(g, "x", 1, one, (const float[]){7});
    dlc_value *full = temp(g, "full"), *empty = temp(g, "empty");
    dlc_value *has_full = temp(g, "has_full"), *has_empty = temp(g, "has_empty"), *got = temp(g, "got");
    node(g, "wrap", "Optional", 15, 1, &x, full);
    dlc_node *none = node(g, "none", "Optional", 15, 0, NULL, empty);
    int64_t type[3] = {DLC_TYPE_TENSOR, DLC_TYPE_TENSOR, DLC_FLOAT32};
    dlc_attr ta = {.name = "type", .type = DLC_ATTR_TYPE_PROTO, .ints = type, .count = 3};
    cr_assert_eq(dlc_node_add_attr(none, &ta), DLC_OK);
    node(g, "has_full", "OptionalHasElement", 15, 1, &full, has_full);
    node(g, "has_empty", "OptionalHasElement", 15, 1, &empty, has_empty);
    node(g, "get", "OptionalGetElement", 15, 1, &full, got);
    dlc_value *outs[4] = {has_full, has_empty, got, empty};
    set_outputs(g, 4, outs);
    cr_assert_eq(dlc_infer_and_fold(g), DLC_OK, "%s", dlc_last_error());
    cr_assert_eq(*(const uint8_t *)has_full->data, 1);
    cr_assert_eq(*(const uint8_t *)has_empty->data, 0);
    expect_floats(got, (const float[]){7}, 1);
    cr_assert_eq(g->num_outputs, 3, "an absent optional output flattens to no tensor");
    dlc_graph_free(g);

    g = new_graph("get_empty");
    empty = temp(g, "empty"), got = temp(g, "got");
    none = node(g, "none", "Optional", 15, 0, NULL, empty);
    cr_assert_eq(dlc_node_add_attr(none, &ta), DLC_OK);
    node(g, "get_nothing", "OptionalGetElement", 15, 1, &empty, got);
    set_outputs(g, 1, &got);
    expect_error(g, DLC_ERR_INVALID_ARGUMENT, "'get_nothing'", "holds no value");
    dlc_graph_free(g);
}

/* SequenceMap(seq, t) with body out = Add(elem, t): the body once per
 * element, the result a sequence output flattened into y[0], y[1]. */
Test(sequence, sequence_map_inlines_the_body_per_element) {
    dlc_graph *g = new_graph("map");
    int64_t two[1] = {2};
    dlc_value *a = const_f32(g, "a", 1, two, (const float[]){1, 2});
    dlc_value *b = const_f32(g, "b", 1, two, (const float[]){10, 20});
    dlc_value *t = const_f32(g, "t", 1, two, (const float[]){100, 200});
    dlc_value *seq = temp(g, "seq"), *y = temp(g, "y");
    dlc_value *ab[2] = {a, b};
    node(g, "construct", "SequenceConstruct", 11, 2, ab, seq);
    dlc_graph *body = new_graph("body");
    dlc_value *in0 = typed(body, "in0", DLC_VALUE_INPUT, DLC_FLOAT32, -1, NULL);
    dlc_value *in1 = typed(body, "in1", DLC_VALUE_INPUT, DLC_FLOAT32, -1, NULL);
    dlc_value *sum = temp(body, "sum");
    dlc_value *add_in[2] = {in0, in1};
    node(body, "add", "Add", 14, 2, add_in, sum);
    set_outputs(body, 1, &sum);
    dlc_value *map_in[2] = {seq, t};
    dlc_node *map = node(g, "map", "SequenceMap", 17, 2, map_in, y);
    dlc_attr ga = {.name = strdup("body"), .type = DLC_ATTR_GRAPH, .graph = body};
    cr_assert_eq(dlc_node_add_attr(map, &ga), DLC_OK);
    set_outputs(g, 1, &y);
    cr_assert_eq(dlc_infer_and_fold(g), DLC_OK, "%s", dlc_last_error());
    cr_assert_eq(g->num_outputs, 2);
    cr_assert_str_eq(g->outputs[1]->name, "y[1]");
    expect_floats(g->outputs[0], (const float[]){101, 202}, 2);
    expect_floats(g->outputs[1], (const float[]){110, 220}, 2);
    dlc_graph_free(g);
}

/* A sequence input of float[N] with 2 elements: inputs x[0], x[1] with
 * their own symbols; a sequence without a length is refused naming it. */
Test(sequence, sequence_inputs_are_flattened) {
    dlc_graph *g = new_graph("inputs");
    dlc_shape s = {.rank = 1};
    cr_assert_eq(dlc_graph_symbol(g, "N", &s.dims[0].sym), DLC_OK);
    s.dims[0].value = -1;
    dlc_value *x;
    cr_assert_eq(dlc_graph_add_value(g, "x", DLC_VALUE_INPUT, DLC_FLOAT32, &s, &x), DLC_OK);
    x->type = DLC_TYPE_SEQUENCE;
    dlc_value *w = typed(g, "w", DLC_VALUE_INPUT, DLC_FLOAT32, 1, (int64_t[]){3});
    dlc_value *y = temp(g, "y");
    dlc_value *at[2] = {x, scalar_i64(g, "p", 1)};
    node(g, "at", "SequenceAt", 11, 2, at, y);
    set_outputs(g, 1, &y);

    cr_assert_eq(dlc_bind_input_sequences(g, NULL, 0), DLC_ERR_UNSUPPORTED);
    cr_assert(strstr(dlc_last_error(), "'x'") && strstr(dlc_last_error(), "--sequence"), "%s", dlc_last_error());
    dlc_input_sequence wrong = {"w", 2};
    cr_assert_eq(dlc_bind_input_sequences(g, &wrong, 1), DLC_ERR_NOT_FOUND, "w is a tensor");

    dlc_input_sequence len = {"x", 2};
    cr_assert_eq(dlc_bind_input_sequences(g, &len, 1), DLC_OK, "%s", dlc_last_error());
    cr_assert_eq(g->num_inputs, 3);
    cr_assert_str_eq(g->inputs[0]->name, "x[0]");
    cr_assert_str_eq(g->inputs[1]->name, "x[1]");
    cr_assert_eq(g->inputs[2], w, "model order kept");
    cr_assert_str_eq(g->symbols[g->inputs[1]->shape.dims[0].sym], "x[1].N");
    dlc_input_shape shape = {.name = "x[1]", .rank = 1, .dims = {5}};
    cr_assert_eq(dlc_bind_input_shapes(g, &shape, 1), DLC_OK, "%s", dlc_last_error());
    cr_assert_eq(dlc_infer_and_fold(g), DLC_OK, "%s", dlc_last_error());
    cr_assert_eq(y->shape.dims[0].value, 5, "SequenceAt(x, 1) is the second element input");
    cr_assert_eq(y->producer->inputs[0], g->inputs[1]);
    cr_assert_eq(g->inputs[0]->shape.dims[0].value, -1, "element 0 keeps its own symbol");
    dlc_graph_free(g);
}

/* ---- SequenceProto / OptionalProto files ---- */

static void write_message(const char *path, const ProtobufCMessage *m) {
    size_t len = protobuf_c_message_get_packed_size(m);
    uint8_t *buf = malloc(len + 1);
    protobuf_c_message_pack(m, buf);
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(buf, 1, len, f), len);
    fclose(f);
    free(buf);
}

static Onnx__TensorProto *int64_tensor(int64_t *dims, size_t rank, int64_t *data, size_t n) {
    Onnx__TensorProto *t = calloc(1, sizeof *t);
    onnx__tensor_proto__init(t);
    t->has_data_type = 1;
    t->data_type = ONNX__TENSOR_PROTO__DATA_TYPE__INT64;
    t->n_dims = rank;
    t->dims = dims;
    t->n_int64_data = n;
    t->int64_data = data;
    return t;
}

Test(sequence_file, sequences_and_optionals_read_by_declared_kind) {
    char dir[] = "/tmp/dlc-seq-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char seq_path[64], opt_path[64], empty_path[64];
    snprintf(seq_path, sizeof seq_path, "%s/seq.pb", dir);
    snprintf(opt_path, sizeof opt_path, "%s/opt.pb", dir);
    snprintf(empty_path, sizeof empty_path, "%s/empty.pb", dir);

    int64_t d3[1] = {3}, d1[1] = {1}, v3[3] = {1, 2, 3}, v1[1] = {9};
    Onnx__TensorProto *elems[2] = {int64_tensor(d3, 1, v3, 3), int64_tensor(d1, 1, v1, 1)};
    Onnx__SequenceProto sp = ONNX__SEQUENCE_PROTO__INIT;
    sp.name = "s";
    sp.has_elem_type = 1;
    sp.elem_type = 1;
    sp.n_tensor_values = 2;
    sp.tensor_values = elems;
    write_message(seq_path, &sp.base);
    Onnx__OptionalProto op = ONNX__OPTIONAL_PROTO__INIT;
    op.has_elem_type = 1;
    op.elem_type = 3;
    op.sequence_value = &sp;
    write_message(opt_path, &op.base);
    Onnx__OptionalProto none = ONNX__OPTIONAL_PROTO__INIT;
    write_message(empty_path, &none.base);

    dlc_owned_value v;
    cr_assert_eq(dlc_value_file_read(seq_path, DLC_FILE_SEQUENCE, &v), DLC_OK, "%s", dlc_last_error());
    cr_assert_eq(v.count, 2);
    cr_assert(v.holds_sequence && v.present);
    cr_assert_str_eq(v.name, "s");
    cr_assert_eq(v.elems[0].tensor.dims[0], 3);
    cr_assert_eq(((const int64_t *)v.elems[0].tensor.data)[2], 3);
    cr_assert_eq(((const int64_t *)v.elems[1].tensor.data)[0], 9);
    dlc_owned_value_free(&v);

    cr_assert_eq(dlc_value_file_read(opt_path, DLC_FILE_OPTIONAL, &v), DLC_OK, "%s", dlc_last_error());
    cr_assert(v.present && v.holds_sequence);
    cr_assert_eq(v.count, 2);
    dlc_owned_value_free(&v);

    cr_assert_eq(dlc_value_file_read(empty_path, DLC_FILE_OPTIONAL, &v), DLC_OK, "%s", dlc_last_error());
    cr_assert(!v.present);
    cr_assert_eq(v.count, 0);
    dlc_owned_value_free(&v);

    /* a sequence of sequences is refused, naming the file */
    Onnx__SequenceProto outer = ONNX__SEQUENCE_PROTO__INIT;
    Onnx__SequenceProto *inner[1] = {&sp};
    outer.has_elem_type = 1;
    outer.elem_type = 3;
    outer.n_sequence_values = 1;
    outer.sequence_values = inner;
    write_message(seq_path, &outer.base);
    cr_assert_eq(dlc_value_file_read(seq_path, DLC_FILE_SEQUENCE, &v), DLC_ERR_UNSUPPORTED);
    cr_assert(strstr(dlc_last_error(), "seq.pb") != NULL, "%s", dlc_last_error());

    for (int i = 0; i < 2; i++) free(elems[i]);
    unlink(seq_path), unlink(opt_path), unlink(empty_path);
    rmdir(dir);
}
