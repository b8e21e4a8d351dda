# nb_proto_library(<target> ROOT <dir> PROTOS <files relative to ROOT>...)
#
# Generates C++ messages, gRPC services and gRPC mocks into the build tree and
# builds them as one static library that exports the generated include directory.
include_guard(GLOBAL)

function(nb_proto_library target)
  cmake_parse_arguments(ARG "" "ROOT" "PROTOS" ${ARGN})
  set(out_dir ${CMAKE_CURRENT_BINARY_DIR}/gen)
  file(MAKE_DIRECTORY ${out_dir})
  set(sources)
  set(headers)
  foreach(proto IN LISTS ARG_PROTOS)
    string(REGEX REPLACE "\\.proto$" "" stem ${proto})
    set(generated
      ${out_dir}/${stem}.pb.cc ${out_dir}/${stem}.pb.h
      ${out_dir}/${stem}.grpc.pb.cc ${out_dir}/${stem}.grpc.pb.h
      ${out_dir}/${stem}_mock.grpc.pb.h)
    add_custom_command(
      OUTPUT ${generated}
      COMMAND ${NB_PROTOC}
        --proto_path=${ARG_ROOT}
        --cpp_out=${out_dir}
        --grpc_out=generate_mock_code=true:${out_dir}
        --plugin=protoc-gen-grpc=${NB_GRPC_CPP_PLUGIN}
        ${ARG_ROOT}/${proto}
      DEPENDS ${ARG_ROOT}/${proto}
      COMMENT "Generating C++ from ${proto}"
      VERBATIM)
    list(APPEND sources ${out_dir}/${stem}.pb.cc ${out_dir}/${stem}.grpc.pb.cc)
  endforeach()
  add_library(${target} STATIC ${sources})
  target_include_directories(${target} SYSTEM PUBLIC ${out_dir})
  target_link_libraries(${target} PUBLIC protobuf::libprotobuf gRPC::grpc++)
  # Generated code is not ours to warn about.
  target_compile_options(${target} PRIVATE -w)
endfunction()
