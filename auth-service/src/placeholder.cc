namespace nb::auth {}
