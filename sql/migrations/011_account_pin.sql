-- 011: an account's revision, and its pin to a certificate issuer.
--
-- Revision.  A session caches its account's role and scope at login, and push
-- delivers by that scope.  Any change of what the account may see or who it
-- is (role, street, department, district, login, certificate CN, pin,
-- disabled) bumps account.revision; the daemon reads the revision at login
-- and every ~2 s asks st_changed_accounts which of its sessions' accounts
-- have moved on since, and closes those sessions ("your account changed;
-- reconnect").  The trigger sets the revision: nobody else does.
--
-- Pin.  Any CA in the daemon's tls.ca can mint a certificate for any CN.
-- During a CA changeover tls.ca holds two CAs, so an account is pinned to
-- the CA that issued its certificate: pin_issuer_spki is the SHA-256 of that
-- CA certificate's SubjectPublicKeyInfo (DER, lower-case hex; a CA renewed
-- with the same key keeps it, a second CA with the same name does not), and
-- optionally to the certificate itself: pin_serial (its serial number,
-- upper-case hex without leading zeros) and pin_spki (the SHA-256 of its
-- public key).  st_account_by_cn refuses a certificate that does not match.
-- An account with no pin is handled by the daemon: refused while tls.ca holds
-- more than one CA, accepted with a warning otherwise (docs/operations.md).

ALTER TABLE account
	ADD COLUMN revision bigint NOT NULL DEFAULT 1,
	ADD COLUMN pin_issuer_spki text CHECK (pin_issuer_spki ~ '^[0-9a-f]{64}$'),
	ADD COLUMN pin_serial text CHECK (pin_serial ~ '^(0|[1-9A-F][0-9A-F]{0,63})$'),
	ADD COLUMN pin_spki text CHECK (pin_spki ~ '^[0-9a-f]{64}$'),
	-- a certificate pin without the issuer would let another CA re-use the serial
	ADD CONSTRAINT account_pin_has_issuer
		CHECK (pin_issuer_spki IS NOT NULL OR (pin_serial IS NULL AND pin_spki IS NULL));

CREATE FUNCTION st_account_revision() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF (NEW.id, NEW.login, NEW.role, NEW.street_id, NEW.department_id, NEW.district_id,
	    NEW.cert_cn, NEW.disabled, NEW.pin_issuer_spki, NEW.pin_serial, NEW.pin_spki)
	   IS DISTINCT FROM
	   (OLD.id, OLD.login, OLD.role, OLD.street_id, OLD.department_id, OLD.district_id,
	    OLD.cert_cn, OLD.disabled, OLD.pin_issuer_spki, OLD.pin_serial, OLD.pin_spki) THEN
		NEW.revision := OLD.revision + 1;
	ELSE
		NEW.revision := OLD.revision;
	END IF;
	RETURN NEW;
END
$$;

CREATE TRIGGER account_revision BEFORE UPDATE ON account
	FOR EACH ROW EXECUTE FUNCTION st_account_revision();

-- The login lookup now takes the peer certificate's pins (the defaults keep
-- the one-argument call of earlier versions working for unpinned accounts).
DROP FUNCTION st_account_by_cn(text);

-- At TLS authentication: the account whose certificate name this is, or NULL.
-- p_issuer_spki, p_serial, p_spki describe the peer certificate as the pins
-- do.  A pinned account whose pin does not match is not returned: the result
-- is {"refused": why, "login": ...}.  Otherwise the account (disabled ones
-- too, with disabled = true: the daemon refuses them) with its revision and
-- whether it is pinned.
CREATE FUNCTION st_account_by_cn(p_cn text, p_issuer_spki text DEFAULT NULL,
	p_serial text DEFAULT NULL, p_spki text DEFAULT NULL) RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = street, pg_temp AS $$
	SELECT CASE
		WHEN a.pin_issuer_spki IS NOT NULL AND a.pin_issuer_spki IS DISTINCT FROM p_issuer_spki
		THEN jsonb_build_object('login', a.login, 'refused',
			'the certificate is not from the CA account ' || a.login || ' is pinned to')
		WHEN a.pin_serial IS NOT NULL AND a.pin_serial IS DISTINCT FROM p_serial
		THEN jsonb_build_object('login', a.login, 'refused',
			'the certificate is not the one account ' || a.login || ' is pinned to (serial)')
		WHEN a.pin_spki IS NOT NULL AND a.pin_spki IS DISTINCT FROM p_spki
		THEN jsonb_build_object('login', a.login, 'refused',
			'the certificate is not the one account ' || a.login || ' is pinned to (key)')
		ELSE st_account_json(a) || jsonb_build_object('revision', a.revision,
			'pinned', a.pin_issuer_spki IS NOT NULL)
	END
	FROM account a WHERE a.cert_cn = p_cn
$$;

-- Which of these sessions' accounts changed since login: p_ids[i] logged in
-- at revision p_revisions[i] (the oldest of its sessions).  Returns
-- [[id, revision, disabled], ...] for each account that is gone (revision
-- null, disabled true), disabled, or now at another revision; [] when none.
CREATE FUNCTION st_changed_accounts(p_ids integer[], p_revisions bigint[]) RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = street, pg_temp AS $$
	SELECT coalesce(jsonb_agg(DISTINCT jsonb_build_array(x.id, a.revision,
		coalesce(a.disabled, true))), '[]')
	FROM unnest(p_ids, p_revisions) AS x (id, rev)
	LEFT JOIN account a ON a.id = x.id
	WHERE x.id IS NOT NULL
		AND (a.id IS NULL OR a.disabled OR a.revision IS DISTINCT FROM x.rev)
$$;
