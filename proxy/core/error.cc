#include "proxy/core/error.h"

namespace baton::core {

std::string_view errorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::Ok:
      return "Ok";
    case ErrorCode::BadRequest:
      return "BadRequest";
    case ErrorCode::BadRequestLine:
      return "BadRequestLine";
    case ErrorCode::BadRequestTarget:
      return "BadRequestTarget";
    case ErrorCode::PathAboveRoot:
      return "PathAboveRoot";
    case ErrorCode::BadHeader:
      return "BadHeader";
    case ErrorCode::BadHost:
      return "BadHost";
    case ErrorCode::BadFraming:
      return "BadFraming";
    case ErrorCode::UnsupportedTransferCoding:
      return "UnsupportedTransferCoding";
    case ErrorCode::MethodNotAllowed:
      return "MethodNotAllowed";
    case ErrorCode::UnsupportedVersion:
      return "UnsupportedVersion";
    case ErrorCode::RequestLineTooLong:
      return "RequestLineTooLong";
    case ErrorCode::HeaderTooLarge:
      return "HeaderTooLarge";
    case ErrorCode::BodyTooLarge:
      return "BodyTooLarge";
    case ErrorCode::ExpectationFailed:
      return "ExpectationFailed";
    case ErrorCode::RequestHeadTimeout:
      return "RequestHeadTimeout";
    case ErrorCode::RequestBodyTimeout:
      return "RequestBodyTimeout";
    case ErrorCode::DownstreamClosed:
      return "DownstreamClosed";
    case ErrorCode::NoRoute:
      return "NoRoute";
    case ErrorCode::NoHealthyHost:
      return "NoHealthyHost";
    case ErrorCode::UpstreamConnectFailed:
      return "UpstreamConnectFailed";
    case ErrorCode::UpstreamConnectTimeout:
      return "UpstreamConnectTimeout";
    case ErrorCode::UpstreamTimeout:
      return "UpstreamTimeout";
    case ErrorCode::UpstreamProtocolError:
      return "UpstreamProtocolError";
    case ErrorCode::UpstreamReset:
      return "UpstreamReset";
    case ErrorCode::ConfigInvalid:
      return "ConfigInvalid";
    case ErrorCode::ConfigIo:
      return "ConfigIo";
    case ErrorCode::Internal:
      return "Internal";
    case ErrorCode::DownstreamWriteTimeout:
      return "DownstreamWriteTimeout";
    case ErrorCode::SourceNotAllowed:
      return "SourceNotAllowed";
    case ErrorCode::AuthRequired:
      return "AuthRequired";
    case ErrorCode::Redirect:
      return "Redirect";
    case ErrorCode::UpstreamDrainDeadline:
      return "UpstreamDrainDeadline";
    case ErrorCode::Overloaded:
      return "Overloaded";
    case ErrorCode::TlsHandshakeFailed:
      return "TlsHandshakeFailed";
    case ErrorCode::TlsHandshakeTimeout:
      return "TlsHandshakeTimeout";
    case ErrorCode::Http2ProtocolError:
      return "Http2ProtocolError";
    case ErrorCode::Http2StreamError:
      return "Http2StreamError";
    case ErrorCode::Http2StreamCancelled:
      return "Http2StreamCancelled";
    case ErrorCode::Http2EnhanceYourCalm:
      return "Http2EnhanceYourCalm";
    case ErrorCode::TunnelIdleTimeout:
      return "TunnelIdleTimeout";
    case ErrorCode::UpstreamOverflow:
      return "UpstreamOverflow";
  }
  return "Unknown";
}

}  // namespace baton::core
