/* Name → value lookup for the importer: graphs from exporters have tens of
 * thousands of values, and dlc_graph_find_value is a linear scan. Keys are
 * not copied; they must outlive the table (they are the values' names). */
#ifndef DLC_FRONTEND_NAME_TABLE_H
#define DLC_FRONTEND_NAME_TABLE_H

#include <stddef.h>

#include "ir/graph.h"

typedef struct dlc_name_table {
    const char **keys;
    dlc_value **values;
    size_t capacity; /* power of two, or 0 */
    size_t count;
} dlc_name_table;

dlc_value *dlc_name_table_get(const dlc_name_table *t, const char *name);
/* Adds or replaces; fails only when out of memory. */
dlc_status dlc_name_table_put(dlc_name_table *t, const char *name, dlc_value *value);
void dlc_name_table_free(dlc_name_table *t);

#endif
