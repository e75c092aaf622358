enum DatasetsPlaceholder {}
