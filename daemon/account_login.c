#include "account_login.h"

#include <stdio.h>

#include "identity.h"
#include "log.h"
#include "role.h"

void account_login_params(const char *cn, const struct tls_pins *pins, const char *params[4])
{
	params[0] = cn;
	params[1] = pins->issuer_spki;
	params[2] = pins->serial;
	params[3] = pins->spki;
}

int account_login_check(struct identity *who, const char *cn, SSL *ssl, json_object *acct,
                        char *msg, size_t cap)
{
	json_object *v;
	int ncas;

	if (json_object_object_get_ex(acct, "refused", &v)) {
		snprintf(msg, cap, "%s", json_object_get_string(v));
		return -1;
	}
	if (!json_object_object_get_ex(acct, "revision", &v) || json_object_get_int64(v) <= 0) {
		snprintf(msg, cap, "unreadable account record");
		return -1;
	}
	who->revision = json_object_get_int64(v);
	if (json_object_object_get_ex(acct, "pinned", &v) && json_object_get_boolean(v))
		return 0;
	ncas = tls_ctx_ca_count(SSL_get_SSL_CTX(ssl));
	if (ncas > 1) {
		snprintf(msg, cap,
		         "account %s is not pinned to a CA and tls.ca holds %d CAs: an admin must "
		         "pin it (streetd-admin pin)",
		         cn, ncas);
		return -1;
	}
	log_warn("account not pinned to a CA account=%s: pin it (streetd-admin pin) before tls.ca "
	         "holds a second CA",
	         cn);
	return 0;
}

enum proto_error account_login_record(struct identity *who, const char *cn, SSL *ssl,
                                      const PGresult *res, char *msg, size_t cap)
{
	json_object *acct = NULL, *v;

	if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 0))
		acct = json_tokener_parse(PQgetvalue(res, 0, 0));
	if (!acct) {
		snprintf(msg, cap, "no account for certificate CN=%s", cn);
		return PROTO_ERR_UNAUTHENTICATED;
	}
	if (account_login_check(who, cn, ssl, acct, msg, cap)) {
		json_object_put(acct);
		return PROTO_ERR_UNAUTHENTICATED;
	}
	if (json_object_object_get_ex(acct, "disabled", &v) && json_object_get_boolean(v)) {
		json_object_put(acct);
		snprintf(msg, cap, "account %s is disabled", cn);
		return PROTO_ERR_UNAUTHENTICATED;
	}
	who->account_id = json_object_object_get_ex(acct, "id", &v) ? json_object_get_int(v) : 0;
	if (!json_object_object_get_ex(acct, "role", &v) ||
	    !role_parse(json_object_get_string(v), &who->role) || who->account_id <= 0) {
		json_object_put(acct);
		who->account_id = 0;
		snprintf(msg, cap, "unreadable account record");
		return PROTO_ERR_INTERNAL;
	}
	if (json_object_object_get_ex(acct, "login", &v))
		snprintf(who->login, sizeof(who->login), "%s", json_object_get_string(v));
	if (json_object_object_get_ex(acct, "street_id", &v))
		who->street_id = json_object_get_int(v);
	if (json_object_object_get_ex(acct, "department_id", &v))
		who->department_id = json_object_get_int(v);
	if (json_object_object_get_ex(acct, "district_id", &v))
		who->district_id = json_object_get_int(v);
	json_object_put(acct);
	return PROTO_OK;
}
