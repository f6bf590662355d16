"""The reliability campaigns (`make campaigns`, reports/reliability.md): faults, crashes, load and hostile
input against a real `commerce-ai up`. They are studies, not tests: pytest does not collect them."""
