DELETE FROM sim_labels WHERE run = $1
