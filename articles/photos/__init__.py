"""Photos: uploads checked and cleaned (images, fields), stored (storage), and served as renditions."""
