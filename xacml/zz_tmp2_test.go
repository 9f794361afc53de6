package xacml

import "testing"

func TestTmpShowIIC012(t *testing.T) {
	c := conformanceCase{root: "../../shared/conformance/xacml3/IIC012/Policy.xml"}
	_, err := loadCase(c)
	t.Log(err)
}
