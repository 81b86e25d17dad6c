// A certificate of http-probe's own, for its https warm-up only: its
// responder on 127.0.0.1 presents it and the warm-up's own connections
// trust its CA, so the handshake code (the node:tls inspection and Deno's
// native client) runs once before a probe's clock starts. Nothing else
// trusts it; the key protects nothing but that loopback exchange. Valid
// until 2126, for 127.0.0.1 only.

/** The CA that signed {@linkcode WARM_UP_CERT} (PEM). */
export const WARM_UP_CA: string = `-----BEGIN CERTIFICATE-----
MIIBsDCCAVWgAwIBAgIUXVlrlDtL10A59txCDgNBxb00o+UwCgYIKoZIzj0EAwIw
JDEiMCAGA1UEAwwZd2lyZXRlc3QgdGVzdCBDQSA1OGM1MjI1NzAgFw0yNjEyMDcw
ODE5MTVaGA8yMTI2MTExNTA4MTkxNVowJDEiMCAGA1UEAwwZd2lyZXRlc3QgdGVz
dCBDQSA1OGM1MjI1NzBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABMgrgrVURYuW
nepRnENyTZMSN+kAojjmzZuNk34DBop2lUvsE0SoGjlq3pM6xFnOqd2soEMF1zfN
RC4MZ/wIccmjYzBhMB0GA1UdDgQWBBRk+6NIK0FEuDWg8F0Bmy9C7yWo/zAfBgNV
HSMEGDAWgBRk+6NIK0FEuDWg8F0Bmy9C7yWo/zAPBgNVHRMBAf8EBTADAQH/MA4G
A1UdDwEB/wQEAwIBBjAKBggqhkjOPQQDAgNJADBGAiEA4sy875D0TxBUtW3/xvh7
4YbLX7lW1MOAV68v8fzyZGoCIQCnh23yM0b3dnZSb0U8j2xIgswNJF4rDlrMSrGn
8U91Qw==
-----END CERTIFICATE-----
`;

/** The responder's certificate, for IP 127.0.0.1 (PEM). */
export const WARM_UP_CERT: string = `-----BEGIN CERTIFICATE-----
MIIByTCCAXCgAwIBAgIQTxL3r7amXFLeUjzIMBySpjAKBggqhkjOPQQDAjAkMSIw
IAYDVQQDDBl3aXJldGVzdCB0ZXN0IENBIDU4YzUyMjU3MCAXDTI2MTIwNzA3MTkx
NVoYDzIxMjYxMTEzMDgxOTE1WjAUMRIwEAYDVQQDDAkxMjcuMC4wLjEwWTATBgcq
hkjOPQIBBggqhkjOPQMBBwNCAARxT5nOgnEgPXmbyfBfzWP7LR0dstH2ihdVCImf
gEzKmytN4YyKxlC6EWcFmpFX8ddxK3e+gpemCDRgV8Z54DDno4GRMIGOMAwGA1Ud
EwEB/wQCMAAwDgYDVR0PAQH/BAQDAgWgMB0GA1UdJQQWMBQGCCsGAQUFBwMBBggr
BgEFBQcDAjAPBgNVHREECDAGhwR/AAABMB0GA1UdDgQWBBRXTW2gdKcSWwTCQcAN
V2tZaujcfjAfBgNVHSMEGDAWgBRk+6NIK0FEuDWg8F0Bmy9C7yWo/zAKBggqhkjO
PQQDAgNHADBEAiAqy2ZQKestak5W08mblz/tx7hZPaHYxEZ/aaMnvTIeAQIgAZFj
z2LsHNHMijyLgbKWCPqhIg7uR++YUYGiDO2BgA0=
-----END CERTIFICATE-----
`;

/** The responder's private key (PEM, P-256). */
export const WARM_UP_KEY: string = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg04Xrn0c0r9nt2y/x
5oEgH8Yj2e8VReeRxxr5J+vxtJKhRANCAARxT5nOgnEgPXmbyfBfzWP7LR0dstH2
ihdVCImfgEzKmytN4YyKxlC6EWcFmpFX8ddxK3e+gpemCDRgV8Z54DDn
-----END PRIVATE KEY-----
`;
