/* bfloat16 test data stored as uint16. numpy has no bfloat16 dtype, so
 * onnx 1.12's backend-test generators (Cast, CastLike) keep bfloat16 values
 * as their raw 16-bit patterns in a uint16 array and write the .pb file with
 * data_type UINT16. The bits are exactly the bfloat16 values the test means,
 * so where the model declares bfloat16 a uint16 tensor of the same shape is
 * read as bfloat16 rather than rejected as a dtype mismatch. */
#include "tools/cli.h"

bool cli_accept_bf16_bits(dlc_tensor *t, dlc_dtype expected) {
    if (t->dtype != DLC_UINT16 || expected != DLC_BFLOAT16) return false;
    t->dtype = DLC_BFLOAT16; /* same element size, same bytes: a relabel */
    return true;
}
