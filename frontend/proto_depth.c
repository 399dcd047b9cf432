#include "frontend/proto_depth.h"

#include <stdint.h>

static bool read_varint(const uint8_t *data, size_t end, size_t *pos, uint64_t *out) {
    uint64_t value = 0;
    for (int shift = 0; shift < 64 && *pos < end; shift += 7) {
        uint8_t byte = data[(*pos)++];
        value |= (uint64_t)(byte & 0x7f) << shift;
        if ((byte & 0x80) == 0) {
            *out = value;
            return true;
        }
    }
    return false;
}

bool dlc_proto_depth_ok(const ProtobufCMessageDescriptor *desc, const void *data, size_t size, int max_depth) {
    struct frame {
        const ProtobufCMessageDescriptor *desc;
        size_t end;
    } stack[DLC_PROTO_MAX_DEPTH + 1];
    if (max_depth > DLC_PROTO_MAX_DEPTH) max_depth = DLC_PROTO_MAX_DEPTH;
    const uint8_t *bytes = data;
    int depth = 0;
    size_t pos = 0;
    stack[0].desc = desc;
    stack[0].end = size;
    for (;;) {
        while (pos == stack[depth].end) {
            if (depth == 0) return true;
            depth--;
        }
        size_t end = stack[depth].end;
        uint64_t tag, length;
        if (!read_varint(bytes, end, &pos, &tag)) return true;
        switch (tag & 7) {
        case 0: /* varint */
            if (!read_varint(bytes, end, &pos, &length)) return true;
            break;
        case 1: /* 64-bit */
            if (end - pos < 8) return true;
            pos += 8;
            break;
        case 5: /* 32-bit */
            if (end - pos < 4) return true;
            pos += 4;
            break;
        case 2: { /* length-delimited: bytes, string, packed scalars or a message */
            if (!read_varint(bytes, end, &pos, &length) || length > end - pos) return true;
            uint64_t number = tag >> 3;
            const ProtobufCFieldDescriptor *field =
                number <= UINT32_MAX ? protobuf_c_message_descriptor_get_field(stack[depth].desc, (unsigned)number)
                                     : NULL;
            if (field != NULL && field->type == PROTOBUF_C_TYPE_MESSAGE) {
                if (depth + 1 > max_depth) return false;
                depth++;
                stack[depth].desc = field->descriptor;
                stack[depth].end = pos + (size_t)length;
            } else {
                pos += (size_t)length;
            }
            break;
        }
        default: /* groups and invalid wire types: protobuf-c refuses them */
            return true;
        }
    }
}
