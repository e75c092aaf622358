# Personalised accuracy by label availability (full scale), data.checkpoint = mobilenetv2
# Written by `persephone report`; redraw with: gnuplot -e "set output 'NAME.png'" NAME.gp
set terminal pngcairo size 1320,560 font "sans,10"
set encoding utf8
$m0c0 << EOD
-0.10500000000000001 77.46666666666667 2.6328079915586295
0.895 70.20833333333333 4.597069596035395
1.895 86.76666666666667 2.534259434242102
2.895 91.775 2.010360195539607
EOD
$m0c1 << EOD
-0.10500000000000001 84.04166666666667 2.0131526013395575
0.895 80.1 3.4496991397694505
1.895 90.60833333333333 1.9744060977097773
2.895 93.925 1.531949142988284
EOD
$m0c2 << EOD
-0.10500000000000001 90.48333333333333 1.3068644112757757
0.895 85.875 2.7367359310349895
1.895 94.25 1.425370758710754
2.895 96.33333333333333 1.0400377456518468
EOD
$m0c3 << EOD
-0.10500000000000001 92.45833333333333 1.1004425385774734
0.895 87.26666666666667 1.905516678722799
1.895 96.20833333333333 1.0162826828085942
2.895 97.36666666666666 0.8665760681532821
EOD
$m1c0 << EOD
-0.035 91.23333333333333 2.094003574641876
0.965 91.25 2.0963024362043305
2.965 91.775 2.010360195539607
EOD
$m1c1 << EOD
-0.035 92.84166666666667 1.571612589727366
0.965 92.86666666666666 1.5642861960677028
2.965 93.925 1.531949142988284
EOD
$m1c2 << EOD
-0.035 94.01666666666667 1.2114216988402398
0.965 94.00833333333334 1.208974177198502
2.965 96.33333333333333 1.0400377456518468
EOD
$m1c3 << EOD
-0.035 93.64166666666667 1.1047509928223607
0.965 93.65 1.1050602291412217
2.965 97.36666666666666 0.8665760681532821
EOD
$m2c0 << EOD
0.035 91.25 2.1516844919289926
1.035 91.14166666666667 2.1336828649237742
EOD
$m2c1 << EOD
0.035 93.01666666666667 1.6770160951318338
1.035 92.94166666666666 1.7247498384968696
EOD
$m2c2 << EOD
0.035 94.10833333333333 1.2373168795462908
1.035 94.15833333333333 1.256456983452557
EOD
$m2c3 << EOD
0.035 92.675 1.1201881700729102
1.035 92.825 1.127735591318698
EOD
$m3c0 << EOD
0.10500000000000001 91.425 2.0578196007894403
1.105 91.43333333333334 2.0594186729856276
EOD
$m3c1 << EOD
0.10500000000000001 93.175 1.614625012984642
1.105 93.18333333333334 1.615875239512935
EOD
$m3c2 << EOD
0.10500000000000001 94.26666666666667 1.17888997484539
1.105 94.28333333333333 1.1800646976437568
EOD
$m3c3 << EOD
0.10500000000000001 93.14166666666667 1.077278109610236
1.105 93.15 1.0765450953516267
EOD
set multiplot layout 1,4 title "Personalised accuracy by label availability (full scale), data.checkpoint = mobilenetv2"
set xtics ("0.0" 0, "0.01" 1, "0.1" 2, "1.0" 3)
set xrange [-0.4:3.4]
set grid ytics
set bmargin 8
set yrange [*:100]
set xlabel "labelled fraction of training samples"
set title "exit block2"
set ylabel "personalised test accuracy (%)"
set key outside bottom center horizontal
plot $m0c0 using 1:2:3 with yerrorlines linewidth 1.5 pointtype 4 title "sup", \
     $m1c0 using 1:2:3 with yerrorlines linewidth 1.5 pointtype 5 title "sup+selfsup", \
     $m2c0 using 1:2:3 with yerrorlines linewidth 1.5 pointtype 6 title "sup+distill", \
     $m3c0 using 1:2:3 with yerrorlines linewidth 1.5 pointtype 7 title "sup+selfsup+distill"
set title "exit block5"
unset ylabel
set key off
plot $m0c1 using 1:2:3 with yerrorlines linewidth 1.5 pointtype 4 title "sup", \
     $m1c1 using 1:2:3 with yerrorlines linewidth 1.5 pointtype 5 title "sup+selfsup", \
     $m2c1 using 1:2:3 with yerrorlines linewidth 1.5 pointtype 6 title "sup+distill", \
     $m3c1 using 1:2:3 with yerrorlines linewidth 1.5 pointtype 7 title "sup+selfsup+distill"
set title "exit block10"
unset ylabel
set key off
plot $m0c2 using 1:2:3 with yerrorlines linewidth 1.5 pointtype 4 title "sup", \
     $m1c2 using 1:2:3 with yerrorlines linewidth 1.5 pointtype 5 title "sup+selfsup", \
     $m2c2 using 1:2:3 with yerrorlines linewidth 1.5 pointtype 6 title "sup+distill", \
     $m3c2 using 1:2:3 with yerrorlines linewidth 1.5 pointtype 7 title "sup+selfsup+distill"
set title "exit block16"
unset ylabel
set key off
plot $m0c3 using 1:2:3 with yerrorlines linewidth 1.5 pointtype 4 title "sup", \
     $m1c3 using 1:2:3 with yerrorlines linewidth 1.5 pointtype 5 title "sup+selfsup", \
     $m2c3 using 1:2:3 with yerrorlines linewidth 1.5 pointtype 6 title "sup+distill", \
     $m3c3 using 1:2:3 with yerrorlines linewidth 1.5 pointtype 7 title "sup+selfsup+distill"
unset multiplot
