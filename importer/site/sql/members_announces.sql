-- The announces ratioguard has credited members $1 (none: no row).
SELECT user_id, announces FROM ledger_user_totals WHERE user_id = ANY ($1::bigint[])
