DELETE FROM member_classes WHERE class = $1
