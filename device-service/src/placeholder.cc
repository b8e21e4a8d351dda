namespace nb::device {}
