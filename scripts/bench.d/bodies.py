# scripts/bench: writes the request bodies of the benchmark's rows into the folder given as the only argument, one
# file per body, so wrk (predict.lua) and the pre-flight check (curl --data-binary @file) send the same bytes.
# Run with Debian's /usr/bin/python3 and python3-msgpack; Protobuf is encoded by hand below (Debian's python3 has no
# protobuf module, and the request is five fields), so there is no other dependency.
import json
import os
import struct
import sys

import msgpack

ROW = [5.1, 3.5, 1.4, 0.2]  # one Iris row: the demo model's four FP32 features


def varint(n):
    out = bytearray()
    while True:
        low = n & 0x7F
        n >>= 7
        if n:
            out.append(low | 0x80)
        else:
            out.append(low)
            return bytes(out)


def field(number, payload):
    """A length-delimited field (wire type 2): strings, sub-messages and packed repeated scalars."""
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def model_infer_request(name, datatype, shape, fp32):
    """ModelInferRequest (open_inference_grpc.proto) with one input whose values are in contents.fp32_contents."""
    contents = field(6, struct.pack("<%df" % len(fp32), *fp32))  # InferTensorContents.fp32_contents, packed
    tensor = (field(1, name.encode()) + field(2, datatype.encode())  # InferInputTensor.name, .datatype
              + field(3, b"".join(varint(d) for d in shape))  # .shape, packed int64 (all positive here)
              + field(5, contents))  # .contents
    return field(5, tensor)  # ModelInferRequest.inputs


def kserve_json(name):
    return json.dumps({"inputs": [{"name": name, "shape": [1, 4], "datatype": "FP32", "data": ROW}]},
                      separators=(",", ":")).encode()


def sized_predict(size):
    """A TF Serving predict body of one row of floats, exactly size bytes long (the last value padded with digits)."""
    head, tail = b'{"instances":[[', b"]]}"
    values = []
    length = len(head) + len(tail)
    while length < size - 16:
        value = str(round(0.001 * (len(values) % 1000 + 1), 3)).encode()
        length += len(value) + (1 if values else 0)
        values.append(value)
    values.append(b"0." + b"1" * (size - length - 3))
    return head + b",".join(values) + tail


def main():
    out = sys.argv[1]
    bodies = {
        # The body every TF Serving style row has always sent.
        "predict.json": json.dumps({"instances": [ROW]}, separators=(",", ":")).encode(),
        "predict.msgpack": msgpack.packb({"instances": [ROW]}),
        # The demo model's input is "features"; the stand-in KServe server's metadata names its input "x".
        "infer-demo.json": kserve_json("features"),
        "infer-m.json": kserve_json("x"),
        "infer-demo.pb": model_infer_request("features", "FP32", [1, 4], ROW),
        # Issue 14's sizes for the bare http route: one row of 64 floats, and one row of floats filling 64 KB.
        "predict-64f.json": json.dumps({"instances": [[round(0.01 * i, 2) for i in range(64)]]},
                                       separators=(",", ":")).encode(),
        "predict-64k.json": sized_predict(64 * 1024),
    }
    for name, body in bodies.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(body)


if __name__ == "__main__":
    main()
