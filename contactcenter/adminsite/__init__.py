"""What the apps' admin pages share: history pages, pages about one record, the wizard framework."""
