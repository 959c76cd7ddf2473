-- Raw rows and announce_ids rows of one month and Kafka partition.
SELECT
    (SELECT count() FROM announces WHERE toYYYYMM(time) = @month AND kafka_partition = @partition),
    (SELECT count() FROM announce_ids WHERE toYYYYMM(time) = @month AND kafka_partition = @partition)
