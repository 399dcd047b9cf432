/* A pre-pass over protobuf wire bytes that bounds message nesting.
 *
 * protobuf-c unpacks sub-messages recursively without a depth limit, so a
 * hostile file of a few hundred KB (an attribute holding a graph holding a
 * node holding an attribute ...) would overflow the stack inside
 * protobuf_c_message_unpack. This walk is iterative and uses the generated
 * descriptors to know which length-delimited fields are messages. */
#ifndef DLC_FRONTEND_PROTO_DEPTH_H
#define DLC_FRONTEND_PROTO_DEPTH_H

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>

#define DLC_PROTO_MAX_DEPTH 100

/* False when some message in data (of type desc) nests deeper than
 * max_depth (<= DLC_PROTO_MAX_DEPTH). Malformed bytes count as shallow: the
 * real parse reports them. */
bool dlc_proto_depth_ok(const ProtobufCMessageDescriptor *desc, const void *data, size_t size, int max_depth);

#endif
