"""ApraNova LMS API: the school's system of record for everything but identity."""
