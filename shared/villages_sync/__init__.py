"""Villages Events Sync: the code the producer, consumer and sweep functions share."""
