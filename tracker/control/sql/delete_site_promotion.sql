DELETE FROM site_promotions WHERE id = $1
