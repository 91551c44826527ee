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

-- st_account_by_cn (with the pins) and st_changed_accounts are in
-- sql/functions/50_queries.sql.
