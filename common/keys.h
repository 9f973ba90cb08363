/* The Redis key layout, in one place. Keys of one account carry its id as a
 * hash tag ({acc_…}) so that the layout can move to Redis Cluster. Times are
 * Unix seconds as decimal strings unless said otherwise. Every key is
 * reached through common/kv.h only.
 *
 * Who owns what: the owner writes the keys, and is the only process that
 * reads them, but where this table says otherwise.
 *   account-svc  admin:*, acct:*{<id>} (the hash), acct:user:*, acct:name:*,
 *                acct:all, lockout:*, login:known:*; serves the audit stream. Others ask it
 *                (account.State) for an account's state.
 *   ca-svc       cert:*, acct:{<id>}:certs/:live/:live:upto, dn:*, spki:*,
 *                certs:*, dev:*, crl*, auth:refused:*. The one write into
 *                account-svc's keys: registration (below) consumes the
 *                one-time credentials in the script that stores the first
 *                certificate; ca.AuthCert, renewal and rotation read
 *                acct:{<id>}'s state and role in their scripts, and the
 *                expiry scanner walks acct:all: each is one atomic step with
 *                the certificate keys, or (the scanner) a walk over them.
 *   vault-svc    vtpl:*, vault:*, acct:{<id>}:vaults: the layout is in
 *                services/vault/store.h.
 *   any service  audit (appended by every service), ev:{<id>} and evmark:*
 *                (common/events.h), rpc:done:* (common/replay.h), auth:epoch
 *                and mgr:auth (written by the scripts that revoke, disable,
 *                enable or delete).
 *   gateway      writes only admid:* (the .adm front's numbers of ids,
 *                gateway/adm/ids.c); reads auth:epoch and mgr:auth (its
 *                authentication cache), ev:{<id>} and mgr:ev:{<id>} (the
 *                event routes).
 *
 * Administrators (account-svc)
 *   admin:<username>            hash  username, pwhash, created_at, role
 *                                     (super_user|security_officer|operator),
 *                                     pw_set_by ("api" once changed through
 *                                     the API)
 *   admin:all                   zset  score created_at(ms), member <username>
 * Private accounts (account-svc; registration also changes them, see below)
 *   acct:{<id>}                 hash  id, name, role, state
 *                                     (pending_registration|active|disabled),
 *                                     username (only while pending), pwhash (idem),
 *                                     cred_version (bumped on every password
 *                                     change), created_at, registered_at ("" until)
 *   acct:user:<username>        string  <id>   one-time user name → account
 *                                             (also blocks admin names? no: separate)
 *   acct:name:<name>            string  <id>   account names are unique
 *   acct:all                    zset  score created_at(ms), member <id>
 *   lockout:<admin|temp>:<user>[@<source>]
 *                               string  failure count, with a TTL: per user
 *                                       name and source address, and per
 *                                       user name over all sources
 *   login:known:<admin|temp>:<user>
 *                               hash  source address -> last success (s):
 *                                     the addresses the global lockout spares
 *   auth:refused:<serial>       string  "1" for 60 s after ca.AuthCert refused
 *                                       that certificate and audited it
 *                                       (services/ca/auth.c)
 * Audit (every service appends; account-svc serves it)
 *   audit                       stream  see common/audit.h
 * Certificates (ca-svc)
 *   cert:<serial>               hash  serial, holder ("acct:<id>" | "dev:<id>"),
 *                                     account_id (or ""), subject (RFC 2253 text),
 *                                     dn (canonical), not_before, not_after,
 *                                     pem, fingerprint (hex SHA-256 of DER),
 *                                     spki (hex SHA-256 of the public key DER),
 *                                     issued_at, revoked_at ("" if not revoked)
 *   acct:{<id>}:certs           zset  score issued_at(ms), member serial
 *   acct:{<id>}:live            zset  score not_after, member serial: the
 *                                     account's unrevoked certificates (expired
 *                                     ones until dropped), so that rotation and
 *                                     renewal never walk the history; see
 *                                     services/ca/index.h
 *   acct:{<id>}:live:upto       string  the acct:{<id>}:certs score up to
 *                                       which :live reflects the records
 *                                       (absent: built from the whole list on
 *                                       first use)
 *   dn:<sha256 of canonical DN> string  holder ("acct:<id>" | "dev:<id>")
 *   certs:expiry                zset  score not_after, member serial (unrevoked;
 *                                     the expiry scanner removes a serial once
 *                                     it has expired, with certificate.expired)
 *   certs:due                   zset  the members of certs:expiry, scored by
 *                                     when the expiry scanner must look at
 *                                     each next (0: new; then not_after minus
 *                                     its next notice threshold, or not_after)
 *   certs:due:notice            string  the notice days certs:due was scored
 *                                       for (a change rescores it)
 *   certs:expired               zset  score not_after, member serial: account
 *                                     certificates that expired unrevoked (the
 *                                     scanner moves them here from certs:expiry)
 *   certs:revoked               zset  score not_after, member serial
 *   certs:live:built            string  "1" once ca-svc has brought every
 *                                       account's :live set up to date (a
 *                                       one-time walk over acct:all, in
 *                                       batches; for data written before the
 *                                       :live sets existed)
 *   certs:live:at               string  that walk's rank in acct:all so far
 *   spki:<hex sha256 of SPKI>   string  serial of a certificate of that key
 *                                       (rotation refuses certified keys);
 *                                       kept for ever, also after the record
 *                                       it names is pruned
 * Retention (services/ca/expiry.h): an account certificate's cert:<serial>
 *   and its members of acct:{id}:certs, :live, certs:expired and
 *   certs:revoked are deleted MANAGER_CERT_RETENTION_S (default 90 days)
 *   after its not_after, revoked or not, once certificate.expired is written
 *   (it is no longer in certs:expiry). Until then the certificate list shows
 *   it; the CRL lists a revoked one until its not_after. Device certificate
 *   records, spki:, dn: and the events are not pruned.
 *   dev:<id>                    hash  id, name, created_at, serial
 *   dev:all                     zset  score created_at(ms), member <id>
 *   dev:name:<name>             string  <id>   device names are unique
 *   crl                         hash  pem, gen, next_update, stale_at: the
 *                                     cached CRL (rebuilt at stale_at)
 *   crl:gen                     string  bumped by every revocation; the CRL
 *                                       is rebuilt when crl.gen is older
 *   crl:number                  string  the last CRL number issued
 * Registration (ca-svc, one Lua script): checks acct:{id} state ==
 *   pending_registration and cred_version == the version the gateway checked,
 *   claims dn:…, writes cert:…, sets state=active and registered_at, deletes
 *   username, pwhash and acct:user:<username>, and records its reply
 *   (rpc:done:…, below) so that a resend of the request gets the certificate
 *   instead of 401.
 * Events (any service; see common/events.h)
 *   ev:{<id>}                   stream of the account's events (bounded)
 *   evmark:<serial>:<threshold> string  exactly-once marker of expiry events;
 *                                     threshold: the notice days, 15 or
 *                                     "expired"; lives until not_after + 30 d
 * Replays (common/replay.h; account-svc, ca-svc, vault-svc)
 *   rpc:done:<hex>              string  the OK reply payload of a committed
 *                                       mutating RPC; <hex> is the SHA-256 of
 *                                       (method, caller kind, caller id,
 *                                       envelope request id, request payload).
 *                                       Written by the script that commits, in
 *                                       the same step; TTL REPLAY_TTL_S (900 s).
 *                                       A resend of the request (same bytes,
 *                                       after a replica died) finds it and gets
 *                                       this reply instead of running again.
 * Authentication epoch
 *   auth:epoch    integer, INCRed in the same script as every change that can
 *                 turn an app's authentication from yes to no (revocation,
 *                 disable, enable, delete). Gateways read it on every app
 *                 request and drop their cached answers when it moved.
 * Pub/sub channels
 *   mgr:auth      "cert <serial>" | "account <id>": drop cached auth state
 *   mgr:ev:{<id>} one JSON event as it is appended
 * Vaults (vault-svc): see the comment in services/vault/store.h.
 * Numbers of ids for IBM's `.adm` methods (gateway/adm/ids.h); <kind> is
 * acc, vlt or tpl; kept for ever, never reused
 *   admid:{<kind>}:next   integer, the last number given
 *   admid:{<kind>}:num    hash  id -> number
 *   admid:{<kind>}:id     hash  number -> id
 */
#ifndef MGR_COMMON_KEYS_H
#define MGR_COMMON_KEYS_H

#define KEY_AUTH_CHANNEL "mgr:auth"
#define KEY_AUTH_EPOCH "auth:epoch"
#define KEY_AUDIT_STREAM "audit"
#define KEY_AUDIT_MAXLEN "1000000"
#define KEY_EVENTS_MAXLEN "10000"

#endif
