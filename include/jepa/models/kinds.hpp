// jepa/models/kinds.hpp: the model kinds jepa-rt knows, by the string in a
// .jepa file's header (FileHeader::model_kind).
//
// check_model_kind(file) is the cheap structural check a loader runs before
// binding weights: for a known kind it parses and validates the
// hyper-parameters (Config::from_file: Error::bad_hparam) and checks that
// every tensor for_each_tensor lists is present with the right shape and a
// dtype its role allows (missing_tensor / shape_mismatch / unknown_dtype,
// naming the tensor). An unknown kind is Error::unknown_model_kind. Tensors
// the model does not read are allowed (a file may carry extras, e.g.
// "selftest.*").
#ifndef JEPA_MODELS_KINDS_HPP
#define JEPA_MODELS_KINDS_HPP

#include <cstring>

#include "ijepa_encoder.hpp"
#include "ijepa_predictor.hpp"
#include "vjepa2_ac_predictor.hpp"
#include "vjepa2_encoder.hpp"
#include "vjepa2_predictor.hpp"

namespace jepa {
namespace models {

enum class ModelKind : uint8_t {
  unknown = 0,
  vjepa2_encoder,
  vjepa2_predictor,
  vjepa2_ac_predictor,
  ijepa_encoder,
  ijepa_predictor,
};

inline ModelKind model_kind_from_string(const char* kind) {
  if (std::strcmp(kind, Vjepa2EncoderConfig::kKind) == 0) return ModelKind::vjepa2_encoder;
  if (std::strcmp(kind, Vjepa2PredictorConfig::kKind) == 0) return ModelKind::vjepa2_predictor;
  if (std::strcmp(kind, AcPredictorConfig::kKind) == 0) return ModelKind::vjepa2_ac_predictor;
  if (std::strcmp(kind, IjepaEncoderConfig::kKind) == 0) return ModelKind::ijepa_encoder;
  if (std::strcmp(kind, IjepaPredictorConfig::kKind) == 0) return ModelKind::ijepa_predictor;
  return ModelKind::unknown;
}

inline const char* model_kind_name(ModelKind k) {
  switch (k) {
    case ModelKind::vjepa2_encoder: return Vjepa2EncoderConfig::kKind;
    case ModelKind::vjepa2_predictor: return Vjepa2PredictorConfig::kKind;
    case ModelKind::vjepa2_ac_predictor: return AcPredictorConfig::kKind;
    case ModelKind::ijepa_encoder: return IjepaEncoderConfig::kKind;
    case ModelKind::ijepa_predictor: return IjepaPredictorConfig::kKind;
    case ModelKind::unknown: break;
  }
  return "unknown";
}

namespace detail {
template <class Config>
Status check_kind_tensors(const ModelFile& f) {
  Result<Config> c = Config::from_file(f);
  if (!c) return c.status();
  TensorChecker check{&f, Status::ok()};
  for_each_tensor(c.value(), check);
  return check.status;
}
}  // namespace detail

inline Status check_model_kind(const ModelFile& f) {
  switch (model_kind_from_string(f.kind())) {
    case ModelKind::vjepa2_encoder: return detail::check_kind_tensors<Vjepa2EncoderConfig>(f);
    case ModelKind::vjepa2_predictor: return detail::check_kind_tensors<Vjepa2PredictorConfig>(f);
    case ModelKind::vjepa2_ac_predictor: return detail::check_kind_tensors<AcPredictorConfig>(f);
    case ModelKind::ijepa_encoder: return detail::check_kind_tensors<IjepaEncoderConfig>(f);
    case ModelKind::ijepa_predictor: return detail::check_kind_tensors<IjepaPredictorConfig>(f);
    case ModelKind::unknown: break;
  }
  return Status::error(Error::unknown_model_kind,
                       "model kind '%s' is not one of vjepa2.encoder, vjepa2.predictor, vjepa2.ac_predictor, "
                       "ijepa.encoder, ijepa.predictor",
                       f.kind());
}

}  // namespace models
}  // namespace jepa

#endif  // JEPA_MODELS_KINDS_HPP
