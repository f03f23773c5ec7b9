//go:build !libdeflate || !cgo

package inflate

// Available tells whether Gunzip works: built with libdeflate.
const Available = false

func gunzipMember(out, src []byte) (in, n int, err error) { return 0, 0, ErrUnavailable }
