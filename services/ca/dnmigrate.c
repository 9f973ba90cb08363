/* Subject DN registry migration (see dnmigrate.h). */
#include "services/ca/dnmigrate.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include <hiredis/hiredis.h>
#include <openssl/x509.h>

#include "common/kv.h"
#include "common/log.h"
#include "services/ca/dn.h"
#include "services/ca/issue.h"

#define CA_DN_FORM "2" /* 2: RDN order and grouping do not count */
#define SCAN_COUNT "500"

/* ARGV: record key, old dn key, new dn key, holder. */
static const char lua_move[] =
    "local n = redis.call('GET', ARGV[3])\n"
    "if n and n ~= ARGV[4] then return n end\n"
    "redis.call('SET', ARGV[3], ARGV[4])\n"
    "redis.call('HSET', ARGV[1], 'dn', ARGV[3])\n"
    "if redis.call('GET', ARGV[2]) == ARGV[4] then redis.call('DEL', ARGV[2]) end\n"
    "return ''\n";

static const char *
el_str(const redisReply *r, size_t i)
{
	if (r == NULL || r->type != REDIS_REPLY_ARRAY || i >= r->elements ||
	    r->element[i]->type != REDIS_REPLY_STRING)
		return (NULL);
	return (r->element[i]->str);
}

static mgr_err
migrate_record(const char *key, long *moved)
{
	redisReply *r = NULL, *m = NULL;
	X509_NAME *subject = NULL;
	X509_PUBKEY *spki = NULL;
	char want[CA_DN_KEY_MAX];
	const char *pem, *holder, *dn, *argv[4];
	mgr_err rv;

	if ((rv = kv_cmd(&r, "HMGET %s pem holder dn", key)) != MGR_OK)
		return (rv);
	pem = el_str(r, 0);
	holder = el_str(r, 1);
	dn = el_str(r, 2);
	rv = MGR_OK;
	if (pem == NULL || holder == NULL || dn == NULL || *holder == '\0' ||
	    ca_pem_subject_spki(pem, &subject, &spki) != MGR_OK ||
	    ca_dn_key(subject, want) != MGR_OK || strcmp(want, dn) == 0)
		goto out;
	argv[0] = key;
	argv[1] = dn;
	argv[2] = want;
	argv[3] = holder;
	if ((rv = kv_eval(&m, lua_move, 0, 4, argv, NULL)) != MGR_OK)
		goto out;
	if (m->type == REDIS_REPLY_STRING && m->len > 0)
		log_warn(NULL,
		    "Subject DN registry: %s (%s) now has the DN of %s; "
		    "left as it was, the DN can no longer be issued to it",
		    key, holder, m->str);
	else
		(*moved)++;
out:
	X509_NAME_free(subject);
	X509_PUBKEY_free(spki);
	if (m != NULL)
		freeReplyObject(m);
	freeReplyObject(r);
	return (rv);
}

mgr_err
ca_dn_migrate(void)
{
	redisReply *r = NULL;
	char cursor[32] = "0";
	long moved = 0;
	mgr_err rv;

	if ((rv = kv_cmd(&r, "GET dn:form")) != MGR_OK)
		return (rv);
	if (r->type == REDIS_REPLY_STRING && strcmp(r->str, CA_DN_FORM) == 0) {
		freeReplyObject(r);
		return (MGR_OK);
	}
	freeReplyObject(r);
	do {
		const redisReply *keys;

		if ((rv = kv_cmd(&r, "SCAN %s MATCH cert:* COUNT " SCAN_COUNT, cursor)) !=
		    MGR_OK)
			return (rv);
		if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
		    r->element[0]->type != REDIS_REPLY_STRING ||
		    r->element[1]->type != REDIS_REPLY_ARRAY) {
			freeReplyObject(r);
			return (MGR_EINTERNAL);
		}
		snprintf(cursor, sizeof(cursor), "%s", r->element[0]->str);
		keys = r->element[1];
		for (size_t i = 0; i < keys->elements && rv == MGR_OK; i++)
			if (keys->element[i]->type == REDIS_REPLY_STRING)
				rv = migrate_record(keys->element[i]->str, &moved);
		freeReplyObject(r);
		if (rv != MGR_OK)
			return (rv);
	} while (strcmp(cursor, "0") != 0);
	if ((rv = kv_cmd(&r, "SET dn:form " CA_DN_FORM)) != MGR_OK)
		return (rv);
	freeReplyObject(r);
	if (moved > 0)
		log_info(NULL,
		    "Subject DN registry: %ld records moved to canonical form " CA_DN_FORM,
		    moved);
	return (MGR_OK);
}

static atomic_int dn_ready;

int
ca_dn_ready(void)
{
	return (atomic_load(&dn_ready));
}

void
ca_dn_set_ready(void)
{
	atomic_store(&dn_ready, 1);
}
