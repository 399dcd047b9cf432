#include "frontend/name_table.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/status.h"

static uint64_t hash_name(const char *s) {
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s != '\0'; s++) h = (h ^ (uint8_t)*s) * 1099511628211ull;
    return h;
}

/* Slot holding name, or the empty slot where it would go. */
static size_t find_slot(const dlc_name_table *t, const char *name) {
    size_t mask = t->capacity - 1;
    size_t i = (size_t)hash_name(name) & mask;
    while (t->keys[i] != NULL && strcmp(t->keys[i], name) != 0) i = (i + 1) & mask;
    return i;
}

dlc_value *dlc_name_table_get(const dlc_name_table *t, const char *name) {
    if (t->capacity == 0) return NULL;
    size_t i = find_slot(t, name);
    return t->keys[i] != NULL ? t->values[i] : NULL;
}

static dlc_status grow(dlc_name_table *t) {
    size_t capacity = t->capacity ? t->capacity * 2 : 64;
    dlc_name_table bigger = {calloc(capacity, sizeof *t->keys), calloc(capacity, sizeof *t->values), capacity, 0};
    if (bigger.keys == NULL || bigger.values == NULL) {
        dlc_name_table_free(&bigger);
        return dlc_fail(DLC_ERR_OUT_OF_MEMORY, "importer: out of memory");
    }
    for (size_t i = 0; i < t->capacity; i++)
        if (t->keys[i] != NULL) {
            size_t slot = find_slot(&bigger, t->keys[i]);
            bigger.keys[slot] = t->keys[i];
            bigger.values[slot] = t->values[i];
            bigger.count++;
        }
    dlc_name_table_free(t);
    *t = bigger;
    return DLC_OK;
}

dlc_status dlc_name_table_put(dlc_name_table *t, const char *name, dlc_value *value) {
    if ((t->count + 1) * 2 > t->capacity) DLC_TRY(grow(t));
    size_t slot = find_slot(t, name);
    if (t->keys[slot] == NULL) t->count++;
    t->keys[slot] = name;
    t->values[slot] = value;
    return DLC_OK;
}

void dlc_name_table_free(dlc_name_table *t) {
    free(t->keys);
    free(t->values);
    memset(t, 0, sizeof *t);
}
