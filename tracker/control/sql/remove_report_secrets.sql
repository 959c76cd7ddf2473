DELETE FROM report_secrets WHERE user_id = $1
