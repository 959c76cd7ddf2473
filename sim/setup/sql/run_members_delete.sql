DELETE FROM sim_run_members WHERE run = $1
