module github.com/opencommerce/commerce/deploy/check

go 1.26.8
