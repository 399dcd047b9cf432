/* The op family tables (ir/ops/<family>.c), one line each. */
DLC_OP_FAMILY(elementwise)  /* unary/binary arithmetic, activations, comparisons, Where, Cast */
DLC_OP_FAMILY(tensor)       /* Reshape, Flatten, Transpose, Concat, Split, Slice, Gather, Shape, ... */
DLC_OP_FAMILY(reduce)       /* Softmax, LogSoftmax, Reduce*, ArgMax/ArgMin */
DLC_OP_FAMILY(linalg)       /* Gemm, MatMul */
DLC_OP_FAMILY(conv)         /* Conv, ConvTranspose */
DLC_OP_FAMILY(pool)         /* MaxPool, AveragePool, Global*Pool */
DLC_OP_FAMILY(norm)         /* BatchNormalization, LayerNormalization, ... */
DLC_OP_FAMILY(tensor_index)  /* Slice, Gather*, ScatterElements, Pad, OneHot, CumSum, Trilu, DepthToSpace, ... */
DLC_OP_FAMILY(resize)        /* Resize, Upsample */
DLC_OP_FAMILY(loss)          /* NegativeLogLikelihoodLoss, SoftmaxCrossEntropyLoss */
DLC_OP_FAMILY(rnn)           /* RNN, GRU, LSTM */
DLC_OP_FAMILY(quant)         /* QuantizeLinear, DequantizeLinear, DynamicQuantizeLinear, MatMulInteger, QLinear*, ConvInteger */
DLC_OP_FAMILY(bound)         /* dlc.BoundInput: run-time check of inputs bound at compile time */
DLC_OP_FAMILY(misc)          /* EyeLike, Shrink */
DLC_OP_FAMILY(nd_index)      /* GatherND, ScatterND, TopK, ReverseSequence */
DLC_OP_FAMILY(window)        /* HannWindow, HammingWindow, BlackmanWindow */
DLC_OP_FAMILY(einsum)        /* Einsum */
DLC_OP_FAMILY(training)      /* ai.onnx.preview.training: Gradient, Adagrad, Momentum, Adam */
DLC_OP_FAMILY(grid_sample)   /* GridSample */
DLC_OP_FAMILY(dft)           /* DFT */
DLC_OP_FAMILY(roi_align)     /* RoiAlign */
DLC_OP_FAMILY(tfidf)         /* TfIdfVectorizer */
DLC_OP_FAMILY(control_flow)  /* If, Loop, Scan (expanded by passes/control_flow.c) */
DLC_OP_FAMILY(random)        /* RandomUniform, RandomNormal, *Like, Bernoulli, Multinomial */
DLC_OP_FAMILY(sequence)      /* Sequence*, ConcatFromSequence, SplitToSequence, SequenceMap, Optional* (expanded by passes/sequence.c) */
DLC_OP_FAMILY(data_dependent) /* NonZero, Compress, Unique, NonMaxSuppression: outputs of data-dependent extent */
DLC_OP_FAMILY(attention)     /* dlc.Attention: fused scaled dot-product attention (passes/fuse_attention.c) */
DLC_OP_FAMILY(ew_chain)      /* dlc.ElementwiseChain: fused float32 elementwise chains (passes/fuse_elementwise.c) */
