/* The machine's peak fp32 throughput, measured: a loop of independent FMAs
 * on registers only (no memory traffic), the ceiling achieved GFLOP/s are
 * reported against (dlc bench, dlc profile, bench/peak_flops). */
#ifndef DLC_TOOLS_PEAK_FLOPS_H
#define DLC_TOOLS_PEAK_FLOPS_H

typedef enum dlc_peak_isa { DLC_PEAK_AVX2 = 256, DLC_PEAK_AVX512 = 512 } dlc_peak_isa;

/* Whether this CPU runs isa's FMA loop. */
int dlc_peak_supported(dlc_peak_isa isa);
/* GFLOP/s of threads threads each running isa's FMA loop (best of a few
 * repetitions); 0 when isa is not supported or threads cannot start. */
double dlc_peak_gflops(dlc_peak_isa isa, int threads);
/* The best of the supported ISAs at threads threads. */
double dlc_peak_gflops_best(int threads);

#endif
