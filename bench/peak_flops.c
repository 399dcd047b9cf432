/* bench/peak_flops: the fp32 FMA peak of this machine, measured with a
 * register-only loop (tools/peak_flops.c), for AVX-512 and AVX2 at 1 and 2
 * threads (or the thread counts given). The ceiling that `dlc bench` and
 * `dlc profile` report achieved GFLOP/s against.
 *
 *     build/peak_flops [THREADS...]                                          */
#include <stdio.h>
#include <stdlib.h>

#include "tools/peak_flops.h"

int main(int argc, char **argv) {
    int counts[16] = {1, 2}, n = 2;
    if (argc > 1) {
        n = 0;
        for (int i = 1; i < argc && n < 16; i++) {
            int t = atoi(argv[i]);
            if (t < 1) {
                fprintf(stderr, "peak_flops: '%s' is not a thread count\n", argv[i]);
                return 2;
            }
            counts[n++] = t;
        }
    }
    const dlc_peak_isa isas[2] = {DLC_PEAK_AVX512, DLC_PEAK_AVX2};
    const char *names[2] = {"AVX-512", "AVX2"};
    for (int k = 0; k < 2; k++) {
        if (!dlc_peak_supported(isas[k])) {
            printf("%-8s not supported by this CPU\n", names[k]);
            continue;
        }
        for (int i = 0; i < n; i++)
            printf("%-8s %3d thread%s  %8.1f GFLOP/s fp32\n", names[k], counts[i], counts[i] == 1 ? " " : "s",
                   dlc_peak_gflops(isas[k], counts[i]));
    }
    return 0;
}
