SELECT class FROM member_classes WHERE site_group_id = $1
