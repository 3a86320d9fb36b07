"""A gRPC client of the gateway written with Debian's grpcio, from stubs grpc_tools.protoc made of the shipped .proto
files: KServe v2 ModelInfer with raw tensors, ModelService Predict, and an error's status. Prints one line per check;
GrpcPythonClientTest reads them. Usage: grpc_client.py STUBS_DIR PORT"""
import struct
import sys

sys.path.insert(0, sys.argv[1])
import grpc  # noqa: E402
import model_service_pb2  # noqa: E402
import model_service_pb2_grpc  # noqa: E402
import open_inference_grpc_pb2 as inference  # noqa: E402
import open_inference_grpc_pb2_grpc as inference_grpc  # noqa: E402

channel = grpc.insecure_channel("127.0.0.1:" + sys.argv[2])
kserve = inference_grpc.GRPCInferenceServiceStub(channel)

request = inference.ModelInferRequest(model_name="demo", id="py-1")
features = request.inputs.add(name="features", datatype="FP32", shape=[2, 4])
request.raw_input_contents.append(struct.pack("<8f", 5.1, 3.5, 1.4, 0.2, 6.3, 3.3, 6.0, 2.5))
response = kserve.ModelInfer(request, timeout=30)
label = [output.name for output in response.outputs].index("label")
print("infer", response.model_name, response.id, list(struct.unpack("<2q", response.raw_output_contents[label])))

predict = model_service_pb2_grpc.ModelServiceStub(channel).Predict(
    model_service_pb2.PredictRequest(features=[6.3, 3.3, 6.0, 2.5]), timeout=30)
print("predict", predict.model, len(predict.outputs), max(range(3), key=lambda i: predict.outputs[i]))

try:
    kserve.ModelInfer(inference.ModelInferRequest(model_name="nope"), timeout=30)
except grpc.RpcError as error:
    details = dict(error.trailing_metadata()).get("grpc-status-details-bin", b"")
    print("error", error.code().name, b"40001" in details and b"modelgate.dev" in details)
