# Finds every third-party dependency and exposes each as an imported target.
#
# gRPC: its CMake config is used when it provides gRPC::grpc++; otherwise (some
# distributions ship only grpc++.pc) the targets are assembled from pkg-config. Either
# way the rest of the build links gRPC::grpc++ and gRPC::grpc++_reflection and runs
# protoc and grpc_cpp_plugin found with find_program.
include_guard(GLOBAL)

find_package(Threads REQUIRED)
find_package(PkgConfig REQUIRED)

find_package(absl CONFIG REQUIRED)
find_package(Boost 1.81 REQUIRED COMPONENTS json url)
find_package(prometheus-cpp CONFIG REQUIRED)
find_package(yaml-cpp CONFIG REQUIRED)
find_package(SQLite3 REQUIRED)
find_package(OpenSSL REQUIRED)

pkg_check_modules(NB_PROTOBUF REQUIRED IMPORTED_TARGET protobuf)
# The MQTT driver's client library (libmosquitto-dev).
pkg_check_modules(NB_MOSQUITTO REQUIRED IMPORTED_TARGET libmosquitto)
pkg_check_modules(NB_MODBUS REQUIRED IMPORTED_TARGET libmodbus)
if(NOT TARGET protobuf::libprotobuf)
  add_library(protobuf::libprotobuf INTERFACE IMPORTED)
  target_link_libraries(protobuf::libprotobuf INTERFACE PkgConfig::NB_PROTOBUF)
endif()

find_package(gRPC CONFIG QUIET)
if(NOT TARGET gRPC::grpc++)
  message(STATUS "gRPC CMake config not usable; falling back to pkg-config")
  pkg_check_modules(NB_GRPCPP REQUIRED IMPORTED_TARGET grpc++)
  add_library(gRPC::grpc++ INTERFACE IMPORTED)
  target_link_libraries(gRPC::grpc++ INTERFACE PkgConfig::NB_GRPCPP)
endif()
if(NOT TARGET gRPC::grpc++_reflection)
  find_library(NB_GRPCPP_REFLECTION_LIB grpc++_reflection REQUIRED)
  add_library(gRPC::grpc++_reflection UNKNOWN IMPORTED)
  set_target_properties(gRPC::grpc++_reflection PROPERTIES
    IMPORTED_LOCATION ${NB_GRPCPP_REFLECTION_LIB}
    INTERFACE_LINK_LIBRARIES gRPC::grpc++)
endif()

find_program(NB_PROTOC protoc REQUIRED)
find_program(NB_GRPC_CPP_PLUGIN grpc_cpp_plugin REQUIRED)

find_package(GTest CONFIG REQUIRED)
