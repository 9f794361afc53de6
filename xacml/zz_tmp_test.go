package xacml

import "os"

func ParseFile(path string) (Evaluable, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseXML(path, data)
}
