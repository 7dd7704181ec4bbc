"""The flow of one blueprint: submit, plan and settle, review, queue, apply, record."""
