/* Account events (API.md "Events"): appended to the account's Redis stream
 * ev:{<id>} (bounded, kept so that an offline app reads them later) and
 * published on mgr:ev:{<id>} for live SSE clients. The stream entry id is the
 * event id and the paging cursor. */
#ifndef MGR_COMMON_EVENTS_H
#define MGR_COMMON_EVENTS_H

#include <jansson.h>
#include "common/err.h"

/* type: "certificate.issued", ...; data: the event's data object (borrowed).
 * On success, id (if non-NULL) gets the new event's id. */
mgr_err event_emit(const char *account_id, const char *type, json_t *data, char *id,
    size_t idlen);

/* The Lua code that appends and publishes an event inside a larger script,
 * so that a state change and its event are one atomic step. It defines
 * local function emit_event(account_id, type, time_s_string, data_json). */
extern const char event_lua_emit[];

#endif
