/* Kernel families (kernels/<family>.c), one line each. Each file ends with
 *
 *   #ifndef DLC_KERNEL_BITCODE
 *   const dlc_kernel_entry dlc_kernels_<family>[] = {
 *       {"add", dlc_kernel_add, NULL},
 *       {"conv2d", dlc_kernel_conv2d, dlc_kernel_conv2d_workspace},
 *       {NULL, NULL, NULL},
 *   };
 *   #endif
 *
 * (the table is for the native registry used by constant folding; the
 * bitcode build defines DLC_KERNEL_BITCODE so it stays out of models). */
DLC_KERNEL_FAMILY(copy)
DLC_KERNEL_FAMILY(elementwise)
DLC_KERNEL_FAMILY(tensor)
DLC_KERNEL_FAMILY(reduce)
DLC_KERNEL_FAMILY(linalg)
DLC_KERNEL_FAMILY(conv)
DLC_KERNEL_FAMILY(pool)
DLC_KERNEL_FAMILY(norm)
DLC_KERNEL_FAMILY(gemm)      /* kernels/gemm.c: the shared SGEMM; no op kernels of its own */
DLC_KERNEL_FAMILY(epilogue)  /* kernels/epilogue.c: fused bias/residual/activation of GEMM and conv blocks */
DLC_KERNEL_FAMILY(tensor_index) /* kernels/tensor_index.c: gather, gather_elements, scatter_elements, onehot */
DLC_KERNEL_FAMILY(resize)       /* kernels/resize.c: Resize, Upsample */
DLC_KERNEL_FAMILY(loss)         /* kernels/loss.c: nll_loss */
DLC_KERNEL_FAMILY(rnn)          /* kernels/rnn.c: rnn (RNN, GRU, LSTM) */
DLC_KERNEL_FAMILY(quant)        /* kernels/quant.c: quantize/dequantize, matmul_integer, conv_integer */
DLC_KERNEL_FAMILY(bound)        /* kernels/bound.c: check_equal */
DLC_KERNEL_FAMILY(misc)         /* kernels/misc.c: eye, shrink */
DLC_KERNEL_FAMILY(nd_index)     /* kernels/nd_index.c: gather_nd, scatter_nd, topk, reverse_sequence */
DLC_KERNEL_FAMILY(window)       /* kernels/window.c: window */
DLC_KERNEL_FAMILY(einsum)       /* kernels/einsum.c: einsum */
DLC_KERNEL_FAMILY(training)     /* kernels/training.c: optimizer */
DLC_KERNEL_FAMILY(grid_sample)  /* kernels/grid_sample.c: grid_sample */
DLC_KERNEL_FAMILY(dft)          /* kernels/dft.c: dft */
DLC_KERNEL_FAMILY(roi_align)    /* kernels/roi_align.c: roi_align */
DLC_KERNEL_FAMILY(tfidf)        /* kernels/tfidf.c: tfidf */
DLC_KERNEL_FAMILY(random)       /* kernels/random.c: random_uniform, random_normal, bernoulli, multinomial, dropout_random */
DLC_KERNEL_FAMILY(data_dependent) /* kernels/data_dependent.c: nonzero, compress, unique, nms */
DLC_KERNEL_FAMILY(attention)    /* kernels/attention.c: attention (dlc.Attention) */
DLC_KERNEL_FAMILY(ew_chain)     /* kernels/ew_chain.c: ew_chain (dlc.ElementwiseChain) */
