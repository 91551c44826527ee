/*
 * account_login: what the daemon checks of an account record at login beyond
 * its certificate CN (sql/migrations/011_account_pin.sql): the pin refusal
 * the database decided, the policy for accounts with no pin, and the
 * revision the session logged in at.
 *
 * An account with no pin is refused while the trust store its session was
 * accepted on (tls.ca) holds more than one CA: any of them could have minted
 * its certificate. With one CA it is accepted, with a warning in the log.
 */
#ifndef STREETD_ACCOUNT_LOGIN_H
#define STREETD_ACCOUNT_LOGIN_H

#include <stddef.h>

#include <json-c/json.h>
#include <libpq-fe.h>
#include <openssl/ssl.h>

#include "proto.h"
#include "tls.h"

struct identity;

/* The parameters of the account_by_cn statement for the session's peer:
 * CN, issuer SPKI hash, serial, SPKI hash. Pointers into cn and pins. */
void account_login_params(const char *cn, const struct tls_pins *pins, const char *params[4]);

/*
 * acct is st_account_by_cn's result (borrowed) for the certificate name cn,
 * accepted on ssl. Returns 0 and sets who->revision when the login may go
 * on; or -1 with the reason for the client in msg (cap bytes) when it is
 * refused.
 */
int account_login_check(struct identity *who, const char *cn, SSL *ssl, json_object *acct,
                        char *msg, size_t cap);

/*
 * The identity of the certificate name cn from st_account_by_cn's result
 * (res, one row: the record as JSON or NULL), accepted on ssl: fills who and
 * returns PROTO_OK; or returns why not (unauthenticated: no account, pin
 * refused, disabled; internal: an unreadable record) with the message for
 * the client in msg (cap bytes).  Both transports (session.c, http_auth.c).
 */
enum proto_error account_login_record(struct identity *who, const char *cn, SSL *ssl,
                                      const PGresult *res, char *msg, size_t cap);

#endif
