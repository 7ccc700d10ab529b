//! QR codes for TOTP enrolment, drawn on the server as SVG: the secret
//! never goes to a third-party image service.

use base64::Engine;
use qrcode::render::svg;
use qrcode::QrCode;

/// `text` as a QR code in an SVG `data:` URI for an `<img>` (the HTML CSP
/// allows `data:` images, and an image needs no inline style).
pub fn svg_data_uri(text: &str) -> Result<String, String> {
    let code = QrCode::new(text.as_bytes()).map_err(|e| format!("QR code: {e}"))?;
    let image = code
        .render::<svg::Color<'_>>()
        .min_dimensions(240, 240)
        .quiet_zone(true)
        .build();
    Ok(format!(
        "data:image/svg+xml;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(image)
    ))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn draws_an_svg() {
        let uri =
            svg_data_uri("otpauth://totp/NexaGuard:a%40b.example?secret=JBSWY3DPEHPK3PXP").unwrap();
        let svg = uri.strip_prefix("data:image/svg+xml;base64,").unwrap();
        let svg = base64::engine::general_purpose::STANDARD
            .decode(svg)
            .unwrap();
        let svg = String::from_utf8(svg).unwrap();
        assert!(svg.contains("<svg"), "{svg}");
        assert!(svg.contains("<path"), "{svg}");
    }
}
