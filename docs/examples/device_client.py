#!/usr/bin/python3
"""Calls device-service directly over gRPC with a client token.

Lists the devices of a product that this client may see, then reads properties of one
device and prints each device's answer (or its error code).

Generate the Python modules once, from the repository root (Debian packages
protobuf-compiler, protobuf-compiler-grpc and python3-grpcio):

    mkdir -p gen
    protoc -I proto --python_out=gen --grpc_python_out=gen \
        --plugin=protoc-gen-grpc_python=/usr/bin/grpc_python_plugin \
        proto/northbound/common/v1/error_code.proto \
        proto/northbound/device/v1/thing_model.proto \
        proto/northbound/device/v1/device_service.proto

Then, with a token from `nbctl client create`:

    NB_TOKEN=nbt_... PYTHONPATH=gen python3 docs/examples/device_client.py \
        --target localhost:50051 --product sagoo-product --device device1 \
        --property temperature

With TLS add --ca FILE (and --cert FILE --key FILE when device-service requires client
certificates). Exit status: 0 when every call succeeded, 1 when one was refused.
"""
import argparse
import os
import sys

import grpc
from google.protobuf import json_format

from northbound.common.v1 import error_code_pb2
from northbound.device.v1 import device_service_pb2 as device
from northbound.device.v1 import device_service_pb2_grpc as device_grpc


def channel_for(args):
    if not args.ca:
        return grpc.insecure_channel(args.target)

    def read(path):
        with open(path, "rb") as f:
            return f.read()

    credentials = grpc.ssl_channel_credentials(
        root_certificates=read(args.ca),
        private_key=read(args.key) if args.key else None,
        certificate_chain=read(args.cert) if args.cert else None,
    )
    return grpc.secure_channel(args.target, credentials)


def describe(error):
    """gRPC status, Northbound error code and message of a refused call."""
    trailers = dict(error.trailing_metadata() or ())
    code = trailers.get("northbound-error-code", "-")
    return f"{error.code().name} {code}: {error.details()}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", default="localhost:50051")
    parser.add_argument("--product", required=True)
    parser.add_argument("--device", required=True)
    parser.add_argument("--property", action="append", default=[])
    parser.add_argument("--ca", help="CA certificate (PEM): use TLS")
    parser.add_argument("--cert", help="client certificate (PEM), for mTLS")
    parser.add_argument("--key", help="client private key (PEM), for mTLS")
    args = parser.parse_args()
    token = os.environ.get("NB_TOKEN", "")
    if not token:
        parser.error("set NB_TOKEN to a client token")
    # Every DeviceService call carries the token; the health service needs none.
    metadata = [("authorization", f"Bearer {token}")]

    with channel_for(args) as channel:
        stub = device_grpc.DeviceServiceStub(channel)
        try:
            listing = stub.ListDevices(
                device.ListDevicesRequest(product_key=args.product),
                metadata=metadata, timeout=10)
            for entry in listing.devices:
                state = "online" if entry.online else "offline"
                print(f"device {entry.device_key} {state}")

            request = device.SendRequest(
                product_key=args.product, device_keys=[args.device],
                message_type=device.READ_PROPERTY, properties=args.property)
            for reply in stub.Send(request, metadata=metadata, timeout=30):
                if reply.code:
                    name = error_code_pb2.ErrorCode.Name(reply.code)
                    print(f"reply {reply.device_key} {name}: {reply.message}")
                else:
                    values = json_format.MessageToDict(reply.payload)
                    print(f"reply {reply.device_key} {values}")
        except grpc.RpcError as error:
            print(f"refused: {describe(error)}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
