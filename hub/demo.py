"""Demo accounts made by `make up`; the students' enrollments are in `lms_api.demo`."""

DEMO_ACCOUNTS = {
    "admin": "superadmin",
    "trainer": "trainer",
    "ada": "student",  # Data Professional
    "linus": "student",  # Full-Stack Development
}
