/* kernel "cast": every numeric/bool dtype to every other. Floats narrow with
 * round-to-nearest-even (float64 -> float16/bfloat16 in one correct rounding),
 * float -> integer truncates toward zero with NaN -> 0 and out-of-range
 * values saturated to int64 then wrapped to the target width, integers
 * wrap, anything -> bool is "!= 0". No parameters. */
#include "kernels/ew_support.h"

typedef struct cast_job {
    const void *x;
    int32_t xdt;
    void *y;
    int32_t ydt;
} cast_job;

static int is_f32_like(int32_t dt) { return dt == EW_DT_F32 || dt == EW_DT_F16 || dt == EW_DT_BF16; }

static void cast_seg(void *arg, ew_scratch *s, const ew_seg *seg) {
    const cast_job *j = arg;
    int64_t n = seg->n;
    if (is_f32_like(j->xdt) && is_f32_like(j->ydt)) {
        const float *x = ew_load_f32(s, 0, j->x, j->xdt, seg);
        ew_store_f32(j->y, j->ydt, seg->pos, x, n);
    } else if (ew_is_float(j->xdt)) {
        const double *x = ew_load_f64(s, 0, j->x, j->xdt, seg);
        ew_store_f64(j->y, j->ydt, seg->pos, x, n);
    } else if (j->xdt == EW_DT_U64) {
        const uint64_t *x = (const uint64_t *)j->x + seg->off[0];
        for (int64_t i = 0; i < n; i++) ew_put_u64(j->y, j->ydt, seg->pos + i, x[i]);
    } else {
        const int64_t *x = ew_load_i64(s, 0, j->x, j->xdt, seg);
        ew_store_i64(j->y, j->ydt, seg->pos, x, n);
    }
}

int32_t dlc_kernel_cast(const dlc_kparams *p, void *const *inputs, void *const *outputs, const dlc_kctx *ctx) {
    const dlc_ktensor *in = dlc_kp_in(p, 0), *out = dlc_kp_out(p, 0);
    int64_t in_size = dlc_kdtype_size(in->dtype), out_size = dlc_kdtype_size(out->dtype);
    if (in_size == 0 || out_size == 0 || in->dtype == 14 || in->dtype == 15 || out->dtype == 14 ||
        out->dtype == 15)
        return DLC_KERR_UNSUPPORTED; /* strings, complex */
    if (in->dtype == out->dtype) {
        if (outputs[0] != inputs[0]) memmove(outputs[0], inputs[0], (size_t)(in->numel * in_size));
        return DLC_KOK;
    }
    cast_job j = {inputs[0], in->dtype, outputs[0], out->dtype};
    ew_plan plan;
    const dlc_ktensor *ins[1] = {in};
    ew_plan_init(&plan, out, ins, 1);
    ew_run(ctx, &plan, cast_seg, &j);
    return DLC_KOK;
}
