-- A group renamed on the site (its slug changed): its row and its members follow.
WITH moved AS (
    UPDATE users SET class = $2, updated_at = now() WHERE class = $1
)
UPDATE member_classes SET class = $2, updated_at = now() WHERE class = $1
