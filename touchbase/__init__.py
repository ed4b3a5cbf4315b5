"""touchbase: gets home-service businesses more online reviews."""
