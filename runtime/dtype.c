#include "dlc/dlc.h"

size_t dlc_dtype_size(dlc_dtype dtype) {
    switch (dtype) {
    case DLC_BOOL:
    case DLC_UINT8:
    case DLC_INT8: return 1;
    case DLC_UINT16:
    case DLC_INT16:
    case DLC_FLOAT16:
    case DLC_BFLOAT16: return 2;
    case DLC_FLOAT32:
    case DLC_INT32:
    case DLC_UINT32: return 4;
    case DLC_FLOAT64:
    case DLC_INT64:
    case DLC_UINT64:
    case DLC_COMPLEX64: return 8;
    case DLC_COMPLEX128: return 16;
    case DLC_DTYPE_UNDEFINED:
    case DLC_STRING: return 0;
    }
    return 0;
}

const char *dlc_dtype_name(dlc_dtype dtype) {
    switch (dtype) {
    case DLC_DTYPE_UNDEFINED: return "undefined";
    case DLC_FLOAT32: return "float32";
    case DLC_UINT8: return "uint8";
    case DLC_INT8: return "int8";
    case DLC_UINT16: return "uint16";
    case DLC_INT16: return "int16";
    case DLC_INT32: return "int32";
    case DLC_INT64: return "int64";
    case DLC_STRING: return "string";
    case DLC_BOOL: return "bool";
    case DLC_FLOAT16: return "float16";
    case DLC_FLOAT64: return "float64";
    case DLC_UINT32: return "uint32";
    case DLC_UINT64: return "uint64";
    case DLC_COMPLEX64: return "complex64";
    case DLC_COMPLEX128: return "complex128";
    case DLC_BFLOAT16: return "bfloat16";
    }
    return "unknown";
}
