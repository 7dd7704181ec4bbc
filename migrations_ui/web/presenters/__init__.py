"""What pages show, computed from models: review summaries, versions, the ERD, SQL highlighting,
error lines in JSON, the submit form's examples."""
