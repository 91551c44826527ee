/*
 * identity: the account a client proved to be, as the daemon keeps it for
 * the life of a connection.  A plain value: whoever holds one owns it.
 */
#ifndef STREETD_IDENTITY_H
#define STREETD_IDENTITY_H

#include "role.h"

struct identity {
	int account_id; /* 0: not authenticated */
	enum role role;
	char login[65];
	int street_id, department_id, district_id; /* the account's scope (0 = none) */
	long long revision; /* the account's revision at login (account_login.c) */
};

#endif
