# Personalised accuracy by label availability (full scale), data.checkpoint = resnet20
# Written by `persephone report`; redraw with: gnuplot -e "set output 'NAME.png'" NAME.gp
set terminal pngcairo size 1320,560 font "sans,10"
set encoding utf8
$m0c0 << EOD
-0.10500000000000001 79.68333333333334 2.5475580902389106
0.895 80.03333333333333 3.399585646271293
1.895 89.025 2.3751725230615834
2.895 92.71666666666667 1.798942564861665
EOD
$m0c1 << EOD
-0.10500000000000001 86.95833333333333 1.7968861932042512
0.895 85.93333333333334 2.8052937512034335
1.895 92.575 1.8087334459463116
2.895 95.20833333333333 1.3381503610812222
EOD
$m0c2 << EOD
-0.10500000000000001 90.19166666666666 1.4494866630223306
0.895 88.43333333333334 2.0754211086208203
1.895 94.93333333333334 1.3843026985697893
2.895 96.31666666666666 1.1214853208949793
EOD
$m0c3 << EOD
-0.10500000000000001 93.93333333333334 0.9373039043524787
0.895 88.36666666666666 1.7705030227207081
1.895 96.88333333333334 0.9022256652178492
2.895 97.65833333333333 0.7630287016219534
EOD
$m1c0 << EOD
-0.035 92.175 1.8706755416111647
0.965 92.19166666666666 1.865721083336105
2.965 92.71666666666667 1.798942564861665
EOD
$m1c1 << EOD
-0.035 94.36666666666666 1.3700119624800808
0.965 94.39166666666667 1.3694390894777415
2.965 95.20833333333333 1.3381503610812222
EOD
$m1c2 << EOD
-0.035 95.09166666666667 1.1728842035132439
0.965 95.1 1.1678850579671518
2.965 96.31666666666666 1.1214853208949793
EOD
$m1c3 << EOD
-0.035 95.425 0.928013845306464
0.965 95.41666666666667 0.9290314978722576
2.965 97.65833333333333 0.7630287016219534
EOD
$m2c0 << EOD
0.035 92.15833333333333 1.9378920214127193
1.035 92.01666666666667 2.0269650930842347
EOD
$m2c1 << EOD
0.035 94.31666666666666 1.4392821521167043
1.035 94.21666666666667 1.4997790111162312
EOD
$m2c2 << EOD
0.035 95.06666666666666 1.198632936179753
1.035 95.075 1.1707929184964732
EOD
$m2c3 << EOD
0.035 93.9 0.9479033808076631
1.035 94.08333333333333 0.9363078265630811
EOD
$m3c0 << EOD
0.10500000000000001 92.44166666666666 1.8881683622842498
1.105 92.44166666666666 1.8947462287633108
EOD
$m3c1 << EOD
0.10500000000000001 94.375 1.4027997437658666
1.105 94.39166666666667 1.3984524602405972
EOD
$m3c2 << EOD
0.10500000000000001 95.13333333333334 1.1712859131878768
1.105 95.14166666666667 1.1696491764097658
EOD
$m3c3 << EOD
0.10500000000000001 94.44166666666666 0.9021394731739268
1.105 94.44166666666666 0.9030793053846901
EOD
set multiplot layout 1,4 title "Personalised accuracy by label availability (full scale), data.checkpoint = resnet20"
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
set title "exit block4"
unset ylabel
set key off
plot $m0c1 using 1:2:3 with yerrorlines linewidth 1.5 pointtype 4 title "sup", \
     $m1c1 using 1:2:3 with yerrorlines linewidth 1.5 pointtype 5 title "sup+selfsup", \
     $m2c1 using 1:2:3 with yerrorlines linewidth 1.5 pointtype 6 title "sup+distill", \
     $m3c1 using 1:2:3 with yerrorlines linewidth 1.5 pointtype 7 title "sup+selfsup+distill"
set title "exit block6"
unset ylabel
set key off
plot $m0c2 using 1:2:3 with yerrorlines linewidth 1.5 pointtype 4 title "sup", \
     $m1c2 using 1:2:3 with yerrorlines linewidth 1.5 pointtype 5 title "sup+selfsup", \
     $m2c2 using 1:2:3 with yerrorlines linewidth 1.5 pointtype 6 title "sup+distill", \
     $m3c2 using 1:2:3 with yerrorlines linewidth 1.5 pointtype 7 title "sup+selfsup+distill"
set title "exit block8"
unset ylabel
set key off
plot $m0c3 using 1:2:3 with yerrorlines linewidth 1.5 pointtype 4 title "sup", \
     $m1c3 using 1:2:3 with yerrorlines linewidth 1.5 pointtype 5 title "sup+selfsup", \
     $m2c3 using 1:2:3 with yerrorlines linewidth 1.5 pointtype 6 title "sup+distill", \
     $m3c3 using 1:2:3 with yerrorlines linewidth 1.5 pointtype 7 title "sup+selfsup+distill"
unset multiplot
